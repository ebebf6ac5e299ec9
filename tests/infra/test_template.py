"""infra/template.yaml: valid CloudFormation, safe tables, the identity pieces, and models that match it."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from chalicelib.local.template import TEMPLATE_PATH, load_template

GROUPS = {"merchants", "judges", "admins"}


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def tables(template: dict) -> dict[str, dict]:
    return resources_of(template, "AWS::DynamoDB::Table")


def test_cfn_lint_reports_nothing():
    # Given the template as ops deploy it
    from cfnlint.api import lint

    # When cfn-lint checks it (all rules, warnings included)
    matches = lint(TEMPLATE_PATH.read_text(encoding="utf-8"), regions=["us-east-1"])

    # Then it finds nothing
    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


def test_every_table_streams_both_images_on_demand_with_point_in_time_recovery(template):
    for name, table in tables(template).items():
        props = table["Properties"]
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}, name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name


def test_prod_tables_are_retained_and_deletion_protected(template):
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    for name, table in tables(template).items():
        assert table["DeletionPolicy"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}, name
        assert table["UpdateReplacePolicy"] == "Retain", name
        assert table["Properties"]["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}, name


def test_prod_user_pool_is_retained(template):
    pool = template["Resources"]["UserPool"]
    assert pool["DeletionPolicy"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}


def test_table_names_carry_the_stack_name(template):
    for name, table in tables(template).items():
        assert table["Properties"]["TableName"]["Fn::Sub"].startswith("${AWS::StackName}-"), name


def test_outputs_give_every_table_name_and_stream_and_the_pool_client_and_queue(template):
    outputs = template["Outputs"]
    for name in tables(template):
        logical = name.removesuffix("Table")
        assert outputs[f"{logical}TableName"]["Value"] == {"Ref": name}
        assert outputs[f"{logical}StreamArn"]["Value"] == {"Fn::GetAtt": [name, "StreamArn"]}
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolArn"]["Value"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
    assert outputs["StreamFailuresQueueUrl"]["Value"] == {"Ref": "StreamFailuresQueue"}
    assert outputs["StreamFailuresQueueArn"]["Value"] == {"Fn::GetAtt": ["StreamFailuresQueue", "Arn"]}


def test_app_client_allows_password_sign_in_and_refresh_without_a_secret(template):
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert client["GenerateSecret"] is False
    assert client["UserPoolId"] == {"Ref": "UserPool"}


def test_users_may_read_but_not_write_their_name_through_the_app_client(template):
    # the app sets `name` (AdminUpdateUserAttributes) after checking the display-name rule
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert "name" in client["ReadAttributes"]
    assert client["WriteAttributes"] == ["email"]  # email is required at sign-up


def test_the_three_role_groups_exist_in_the_pool(template):
    groups = resources_of(template, "AWS::Cognito::UserPoolGroup").values()
    assert {g["Properties"]["GroupName"] for g in groups} == GROUPS
    assert all(g["Properties"]["UserPoolId"] == {"Ref": "UserPool"} for g in groups)


def test_failures_queue_keeps_messages_for_the_longest_time_sqs_allows(template):
    queue = template["Resources"]["StreamFailuresQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 1_209_600


# --- the PynamoDB models against the tables --------------------------------------------------

def all_models() -> list[type]:
    import chalicelib.models as package
    from chalicelib.models.base import BaseModel

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"chalicelib.models.{module.name}")
    found, pending = [], list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if hasattr(model.Meta, "logical_name"):
            found.append(model)
    return found


def key_schema(entries: list[dict]) -> tuple[str, str | None]:
    keys = {entry["KeyType"]: entry["AttributeName"] for entry in entries}
    return keys["HASH"], keys.get("RANGE")


def attribute_types(table: dict) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in table["Properties"]["AttributeDefinitions"]}


def test_models_are_found():
    assert len(all_models()) >= 20


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_model_keys_and_indexes_match_its_table(template, model):
    # Given the table the model's Meta names
    table = template["Resources"].get(f"{model.Meta.logical_name}Table")
    assert table is not None, f"{model.__name__}: no {model.Meta.logical_name}Table in the template"
    props, types = table["Properties"], attribute_types(table)
    attributes = model.get_attributes()

    # Then its hash and range keys are the table's, with the same DynamoDB types
    assert (model._hash_keyname, model._range_keyname) == key_schema(props["KeySchema"])
    for key in filter(None, (model._hash_keyname, model._range_keyname)):
        assert attributes[key].attr_type == types[key], f"{model.__name__}.{key}"

    # And each of its GSIs exists on the table with the same keys, types and projection
    table_indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    for index_name, index in model._indexes.items():
        assert index_name in table_indexes, f"{model.__name__}: no index {index_name}"
        declared = table_indexes[index_name]
        index_attrs = {a.attr_name: a for a in index.Meta.attributes.values()}
        hash_key = next(name for name, a in index_attrs.items() if a.is_hash_key)
        range_key = next((name for name, a in index_attrs.items() if a.is_range_key), None)
        assert (hash_key, range_key) == key_schema(declared["KeySchema"]), f"{model.__name__}.{index_name}"
        for key in filter(None, (hash_key, range_key)):
            assert index_attrs[key].attr_type == types[key], f"{model.__name__}.{index_name}.{key}"
        assert index.Meta.projection.projection_type == declared["Projection"]["ProjectionType"]


def test_every_model_speaks_through_one_botocore_client():
    """PynamoDB would build a session and client per model class (a cold Lambda pays for each);
    `BaseModel._get_connection` shares one. This fails if a PynamoDB upgrade stops honouring it."""
    from chalicelib.models.base import connection

    clients = {id(model._get_connection().connection.client) for model in all_models()}
    assert clients == {id(connection().client)}


def test_every_table_has_a_model(template):
    modelled = {model.Meta.logical_name for model in all_models()}
    assert {name.removesuffix("Table") for name in tables(template)} <= modelled


def test_ttl_attributes_of_models_are_the_tables_ttl(template):
    from pynamodb.attributes import TTLAttribute

    for model in all_models():
        ttl = [name for name, a in model.get_attributes().items() if isinstance(a, TTLAttribute)]
        if ttl:
            spec = template["Resources"][f"{model.Meta.logical_name}Table"]["Properties"].get("TimeToLiveSpecification")
            assert spec == {"AttributeName": ttl[0], "Enabled": True}, model.__name__


def test_media_bucket_is_encrypted_private_and_takes_browser_posts_from_the_stage_origins(template):
    from chalicelib.http import LOCAL_CORS_ORIGINS

    bucket = template["Resources"]["MediaBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    [cors] = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == {"Ref": "MediaAllowedOrigins"}
    default = template["Parameters"]["MediaAllowedOrigins"]["Default"].split(",")
    assert set(default) == set(LOCAL_CORS_ORIGINS)
    rule, exports = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "uploads/"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # a user's data export (a copy of their data) expires a day after it was written
    assert exports == {"Id": "Exports", "Status": "Enabled", "Prefix": "exports/", "ExpirationInDays": 1}


def test_media_is_read_only_through_the_cloudfront_distribution_with_origin_access_control(template):
    resources = template["Resources"]
    oac = resources["MediaOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    config = resources["MediaDistribution"]["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    policy = resources["MediaBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "MediaBucket"}
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert "${MediaDistribution}" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    outputs = template["Outputs"]
    assert outputs["MediaBucketName"]["Value"] == {"Ref": "MediaBucket"}
    assert outputs["MediaBaseUrl"]["Value"] == {"Fn::Sub": "https://${MediaDistribution.DomainName}/"}


def test_the_local_deploy_creates_the_bucket_and_leaves_out_what_moto_cannot_create():
    import boto3
    from moto import mock_aws

    from chalicelib.config import stage_environment
    from chalicelib.local.template import deploy

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        outputs = deploy(session, stack_name="jianghu-media-t")
        # this stack's buckets only: in one process with the integration tests, moto's world may hold theirs
        buckets = [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]
                   if b["Name"].startswith("jianghu-media-t-")]
    assert buckets == ["jianghu-media-t-media-123456789012"]
    assert outputs["MediaBucketName"] == buckets[0]
    assert "MediaBaseUrl" not in outputs  # the local stack serves /media/ itself
    env = stage_environment(outputs, region="us-east-1", stack_name="jianghu-media-t")
    assert env["MEDIA_BUCKET"] == buckets[0]
    assert "MEDIA_BASE_URL" not in env
