"""presign_botocore: presigned R2 GET URLs per second through botocore's generate_presigned_url."""
import sys
import time

import botocore.session
from botocore.config import Config

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
s3 = botocore.session.get_session().create_client(
    "s3", region_name="auto",
    endpoint_url="https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    aws_access_key_id="3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d",
    aws_secret_access_key="9b8a7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9",
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
keys = ["uid%04d/vid%06d/%s/clip_%d_vertical.%s" % (i % 7, 1000 + i, "clips" if i % 2 else "thumbnails",
                                                    i, "mp4" if i % 2 else "jpg") for i in range(64)]
for k in keys[:8]:  # warm-up: endpoint rules and the model are loaded lazily
    s3.generate_presigned_url("get_object", Params={"Bucket": "clips-bucket", "Key": k}, ExpiresIn=3600)
n = 0
t0 = time.perf_counter()
while True:
    for i in range(64):
        s3.generate_presigned_url("get_object", Params={"Bucket": "clips-bucket", "Key": keys[i]},
                                  ExpiresIn=3600)
    n += 64
    t1 = time.perf_counter()
    if t1 - t0 >= seconds:
        break
print("%.0f" % (n / (t1 - t0)))
