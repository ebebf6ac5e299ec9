"""Cognito user pool triggers: pure Lambda functions the pool invokes.

Chalice has no decorator for Cognito triggers, so the function is a plain `lambda_function`;
`infra/deploy.py` (after `chalice deploy`) and the packaged template attach it to the pool as its
PostConfirmation trigger, and the local stack's moto calls it when its pool confirms a user
(`chalicelib/local/moto_patches.py`).
"""

from __future__ import annotations

from chalice import Blueprint

POST_CONFIRMATION_FUNCTION = "create_profile_on_sign_up"

blueprint = Blueprint(__name__)


@blueprint.lambda_function(name=POST_CONFIRMATION_FUNCTION)
def create_profile_on_sign_up(event, context):
    """PostConfirmation: create the confirmed user's profile; Cognito wants the event back.

    Also invoked after a confirmed password reset (`PostConfirmation_ConfirmForgotPassword`):
    creating only what is missing makes that, and any retry, harmless.
    """
    from chalicelib.observability import logger
    from chalicelib.services.profiles import create_profile_on_sign_up as create_profile

    attributes = (event.get("request") or {}).get("userAttributes") or {}
    created = create_profile(attributes)
    logger.info("sign-up profile", extra={"user_id": attributes.get("sub"), "created": created,
                                          "trigger_source": event.get("triggerSource")})
    return event
