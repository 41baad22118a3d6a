"""The anchor: a plain FastAPI app answering one small JSON object, served the same way as Hygeia."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
