"""Push a saved model folder (save_pretrained output, model card included) to the Hugging Face Hub.

Usage::

    from kan_genomics_hf.hub.push import push_folder, PushToHubError
    try:
        url = push_folder("out/best", "my-user/legnet-lkan-tf0", private=True)
    except PushToHubError as err:
        print(err)  # says why (offline mode, no token, network, permission...); the local folder is untouched

Works for any folder (transformers models, diffusers pipelines). The endpoint follows `HF_ENDPOINT`,
the token `HF_TOKEN` / `huggingface-cli login` unless `token` is given. The folder is only read.
"""
from __future__ import annotations

import os
from pathlib import Path


class PushToHubError(RuntimeError):
    """A push failed; the message says why and that the local folder is intact."""


def _explain(err: BaseException) -> str:
    from huggingface_hub.errors import HfHubHTTPError, LocalTokenNotFoundError

    if isinstance(err, LocalTokenNotFoundError):
        return "no Hub token found: set HF_TOKEN or run `hf auth login`"
    if isinstance(err, HfHubHTTPError):
        status = getattr(getattr(err, "response", None), "status_code", None)
        hint = {401: "the token is invalid or missing", 403: "the token may not write to this repository",
                404: "the repository or namespace does not exist"}.get(status, "")
        return f"the Hub answered HTTP {status}{': ' + hint if hint else ''} ({str(err).splitlines()[0]})"
    name = type(err).__name__
    if "Connect" in name or "Timeout" in name or isinstance(err, OSError):
        return f"could not reach the Hub ({name}: {err})"
    return f"{name}: {err}"


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    repo_type: str = "model",
    commit_message: str = "Upload with kan-genomics-hf",
    revision: str | None = None,
) -> str:
    """Create `repo_id` if needed and upload every file of `folder`; return the repo URL or raise PushToHubError."""
    from huggingface_hub import HfApi, constants

    folder = Path(folder)
    if not folder.is_dir() or not any(folder.iterdir()):
        raise PushToHubError(f"cannot push {folder}: it is not a non-empty directory")
    if "/" not in repo_id and not repo_id.strip():
        raise PushToHubError("repo_id must be 'namespace/name' or 'name'")
    if constants.HF_HUB_OFFLINE:
        raise PushToHubError(f"cannot push {folder} to {repo_id}: HF_HUB_OFFLINE is set. "
                             f"The local folder is intact; unset HF_HUB_OFFLINE and retry.")
    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, repo_type=repo_type, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=url.repo_id, repo_type=repo_type,
                          commit_message=commit_message, revision=revision)
    except Exception as err:  # noqa: BLE001 - every failure becomes one clear message
        raise PushToHubError(f"push of {folder} to {repo_id} failed: {_explain(err)}. "
                             f"The local folder {folder} is intact.") from err
    return str(url)
