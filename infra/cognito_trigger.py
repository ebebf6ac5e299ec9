"""Attach the sign-up trigger to a user pool, keeping every other setting of the pool.

The function is created by `chalice deploy` after the pool's stack, so the pool cannot name it.
`deploy.py` calls `attach`; the packaged template runs this same file as the inline code of a
custom resource (`handler`), so it imports nothing but the standard library and boto3 and stays
under CloudFormation's 4,096-character limit for inline code.
"""
import json
import urllib.request


def update_request(pool, members, trigger_arn):
    """UpdateUserPool resets what it is not given: repeat what DescribeUserPool said (`members`:
    the operation's parameter names), changing only LambdaConfig.PostConfirmation."""
    request = {k: v for k, v in pool.items() if k in members}
    request["UserPoolId"] = pool["Id"]
    config = dict(pool.get("LambdaConfig") or {})
    if trigger_arn:
        config["PostConfirmation"] = trigger_arn
    else:
        config.pop("PostConfirmation", None)
    request["LambdaConfig"] = config
    admin = request.get("AdminCreateUserConfig")
    if isinstance(admin, dict):  # deprecated; refused beside TemporaryPasswordValidityDays
        admin.pop("UnusedAccountValidityDays", None)
    return request


def attach(cognito, pool_id, trigger_arn):
    """Make `trigger_arn` the pool's PostConfirmation trigger (None removes it); return LambdaConfig."""
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    members = cognito.meta.service_model.operation_model("UpdateUserPool").input_shape.members
    cognito.update_user_pool(**update_request(pool, members, trigger_arn))
    return cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("LambdaConfig", {})


def handler(event, context, cognito=None):
    """CloudFormation custom resource: attach on Create/Update, detach (if still ours) on Delete."""
    props = event.get("ResourceProperties", {})
    pool_id, trigger_arn = props.get("UserPoolId"), props.get("TriggerArn")
    status, reason = "SUCCESS", "done"
    try:
        if cognito is None:
            import boto3

            cognito = boto3.client("cognito-idp")
        if event["RequestType"] == "Delete":
            config = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("LambdaConfig") or {}
            if config.get("PostConfirmation") == trigger_arn:
                attach(cognito, pool_id, None)
        else:
            attach(cognito, pool_id, trigger_arn)
    except Exception as exc:  # CloudFormation waits an hour for an answer that never comes
        status, reason = "FAILED", f"{type(exc).__name__}: {exc}"[:500]
    body = json.dumps({
        "Status": status, "Reason": reason, "PhysicalResourceId": f"{pool_id}/post-confirmation",
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": ""})
    urllib.request.urlopen(request, timeout=30).close()
    return status
