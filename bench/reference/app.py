"""The reference for `make bench`: GET /api/videos/{video_id} of the original design, written the way
its Python authors would: FastAPI + Pydantic response models, the Firebase ID token verified with
PyJWT against Google's x509 key set (cached per Cache-Control, as firebase-admin does), Firestore
through its REST API with one shared async HTTP client (httpx), thumbnails presigned by botocore.

Configuration (environment):
  REF_PROJECT             Firebase / Firestore project
  FIRESTORE_EMULATOR_HOST HOST:PORT of the Firestore REST endpoint (plain HTTP, "Bearer owner")
  REF_AUTH_KEYS_URL       the x509 key set URL [Google's securetoken URL]
  REF_R2_ENDPOINT, REF_R2_BUCKET, REF_R2_ACCESS_KEY_ID, REF_R2_SECRET_ACCESS_KEY
  REF_PRESIGN_EXPIRES     life of the thumbnail URLs [3600]
"""
import os
import re
import time
from typing import Dict, List, Optional

import botocore.session
import httpx
import jwt
from botocore.config import Config
from cryptography import x509
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

PROJECT = os.environ["REF_PROJECT"]
FIRESTORE_HOST = os.environ["FIRESTORE_EMULATOR_HOST"]
KEYS_URL = os.environ.get(
    "REF_AUTH_KEYS_URL",
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com")
BUCKET = os.environ["REF_R2_BUCKET"]
PRESIGN_EXPIRES = int(os.environ.get("REF_PRESIGN_EXPIRES", "3600"))
DOCS = "http://%s/v1/projects/%s/databases/(default)/documents" % (FIRESTORE_HOST, PROJECT)

app = FastAPI(title="clips reference")
http: Optional[httpx.AsyncClient] = None
s3 = botocore.session.get_session().create_client(
    "s3", region_name="auto", endpoint_url=os.environ["REF_R2_ENDPOINT"],
    aws_access_key_id=os.environ["REF_R2_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["REF_R2_SECRET_ACCESS_KEY"],
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


class HighlightsSummary(BaseModel):
    total_duration: float = 0.0
    categories: List[str] = []


class ClipStats(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0
    total_size_bytes: int = 0
    total_duration_seconds: float = 0.0
    by_style: Dict[str, int] = {}


class ClipInfo(BaseModel):
    name: str
    title: str
    description: str
    scene_id: int
    priority: int
    style: str
    status: str
    start_time: str
    end_time: str
    duration_seconds: float
    url: str
    thumbnail: Optional[str]
    size: str
    size_bytes: int


class VideoInfoResponse(BaseModel):
    id: str
    title: Optional[str]
    url: Optional[str]
    youtube_id: Optional[str]
    status: Optional[str]
    custom_prompt: Optional[str]
    styles: List[str]
    crop_mode: Optional[str]
    target_aspect: Optional[str]
    highlights_count: int
    highlights_summary: HighlightsSummary
    clip_stats: Optional[ClipStats]
    created_at: Optional[str]
    updated_at: Optional[str]
    source: str
    clips: List[ClipInfo]


@app.on_event("startup")
async def startup():
    global http
    http = httpx.AsyncClient(headers={"Authorization": "Bearer owner"}, timeout=5.0,
                             limits=httpx.Limits(max_keepalive_connections=64))


# ---- Firebase ID tokens -------------------------------------------------------------------------

_keys: Dict[str, object] = {}
_keys_expire = 0.0


async def signing_keys():
    global _keys, _keys_expire
    if _keys and time.time() < _keys_expire:
        return _keys
    r = await http.get(KEYS_URL)
    r.raise_for_status()
    m = re.search(r"max-age=(\d+)", r.headers.get("cache-control", ""))
    _keys = {kid: x509.load_pem_x509_certificate(pem.encode()).public_key()
             for kid, pem in r.json().items()}
    _keys_expire = time.time() + (int(m.group(1)) if m else 300)
    return _keys


async def verify_id_token(authorization: Optional[str]) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "missing ID token")
    token = authorization[7:]
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = (await signing_keys()).get(kid)
        if key is None:
            raise HTTPException(401, "unknown signing key")
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=PROJECT,
                            issuer="https://securetoken.google.com/" + PROJECT)
    except jwt.PyJWTError as e:
        raise HTTPException(401, "invalid ID token: %s" % e)
    if not claims.get("sub") or claims.get("auth_time", 0) > time.time() + 60:
        raise HTTPException(401, "invalid ID token")
    return claims["sub"]


# ---- Firestore REST ------------------------------------------------------------------------------

def decode_value(v):
    if "stringValue" in v:
        return v["stringValue"]
    if "integerValue" in v:
        return int(v["integerValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "booleanValue" in v:
        return v["booleanValue"]
    if "timestampValue" in v:
        return v["timestampValue"]
    if "mapValue" in v:
        return {k: decode_value(x) for k, x in v["mapValue"].get("fields", {}).items()}
    if "arrayValue" in v:
        return [decode_value(x) for x in v["arrayValue"].get("values", [])]
    return None


def decode_doc(doc):
    return {k: decode_value(v) for k, v in doc.get("fields", {}).items()}


async def get_video(uid, video_id):
    r = await http.get("%s/users/%s/videos/%s" % (DOCS, uid, video_id))
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return decode_doc(r.json())


async def completed_clips(uid, video_id):
    query = {"structuredQuery": {
        "from": [{"collectionId": "clips"}],
        "where": {"fieldFilter": {"field": {"fieldPath": "status"}, "op": "EQUAL",
                                  "value": {"stringValue": "completed"}}},
        "orderBy": [{"field": {"fieldPath": f}, "direction": "ASCENDING"}
                    for f in ("priority", "scene_id", "style")]}}
    r = await http.post("%s/users/%s/videos/%s:runQuery" % (DOCS, uid, video_id), json=query)
    r.raise_for_status()
    return [decode_doc(x["document"]) for x in r.json() if "document" in x]


def seconds_z(ts):
    return ts[:19] + "Z" if ts else None


# ---- the endpoint --------------------------------------------------------------------------------

@app.get("/api/videos/{video_id}", response_model=VideoInfoResponse)
async def video_info(video_id: str, authorization: Optional[str] = Header(None)):
    uid = await verify_id_token(authorization)
    video = await get_video(uid, video_id)
    if video is None:
        raise HTTPException(404, "video not found")
    clips = []
    for c in await completed_clips(uid, video_id):
        thumb = None
        if c.get("has_thumbnail") and c.get("thumbnail_r2_key"):
            thumb = s3.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": c["thumbnail_r2_key"]},
                ExpiresIn=PRESIGN_EXPIRES)
        size = c.get("file_size_bytes", 0)
        clips.append(ClipInfo(
            name=c["filename"], title=c.get("scene_title", ""),
            description=c.get("scene_description") or "", scene_id=c.get("scene_id", 0),
            priority=c.get("priority", 99), style=c.get("style", ""), status=c["status"],
            start_time=c.get("start_time", ""), end_time=c.get("end_time", ""),
            duration_seconds=c.get("duration_seconds", 0.0),
            url="/api/videos/%s/clips/%s" % (video_id, c["filename"]), thumbnail=thumb,
            size="%.1f MB" % (size / 1048576), size_bytes=size))
    summary = video.get("highlights_summary") or {}
    return VideoInfoResponse(
        id=video_id, title=video.get("video_title"), url=video.get("video_url"),
        youtube_id=video.get("youtube_id"), status=video.get("status"),
        custom_prompt=video.get("custom_prompt"), styles=video.get("styles_processed", []),
        crop_mode=video.get("crop_mode"), target_aspect=video.get("target_aspect"),
        highlights_count=video.get("highlights_count", 0),
        highlights_summary=HighlightsSummary(**summary),
        clip_stats=ClipStats(**video["clip_stats"]) if video.get("clip_stats") else None,
        created_at=seconds_z(video.get("created_at")), updated_at=seconds_z(video.get("updated_at")),
        source="firestore", clips=clips)
