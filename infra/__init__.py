"""Deployment tooling: the CloudFormation template, stage settings, IAM policies and the deploy script."""
