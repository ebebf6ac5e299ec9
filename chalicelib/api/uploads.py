"""Image uploads: a presigned form the browser posts the file to, straight into S3."""

from typing import TYPE_CHECKING

from chalicelib.http import Api
from chalicelib.schemas import lazy_models
from chalicelib.services import uploads

if TYPE_CHECKING:
    from chalicelib.schemas.uploads import CreateUpload, UploadOut
else:
    CreateUpload, UploadOut = lazy_models("chalicelib.schemas.uploads", "CreateUpload", "UploadOut")

api = Api(__name__, tag="uploads")
blueprint = api.blueprint


@api.route("POST", "/uploads", summary="A presigned S3 POST form for one image (15 minutes, 60 an hour)",
           body=CreateUpload, response=UploadOut, status=201, errors=(429,))
def create_upload(ctx):
    body = ctx.body
    return uploads.create_upload(ctx.user.user_id, body.content_type, body.size_bytes)
