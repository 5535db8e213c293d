"""The client's commands: start jobs (import, import-prices, export, duplicate, build), follow
and steer them.

A command that starts a job is its API request and a call to `submit`; adding one for a new job
type is a function of a few lines like `duplicate` or `build`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pxm_jobs.client.connection import (
    EXIT_JOB_FAILED,
    ApiUrlOption,
    ClientIdOption,
    ClientSecretOption,
    JsonOption,
    ProfileOption,
    WaitOption,
    client_for,
)
from pxm_jobs.client.output import (
    err,
    errors_table,
    job_table,
    jobs_table,
    out,
    print_json,
)
from pxm_jobs.client.profile import DEFAULT_PROFILE, Profile, save_profile
from pxm_jobs.client.watching import watch_job

if TYPE_CHECKING:
    from pxm_jobs.client.http import PxmClient

FIRST_ERRORS_SHOWN = 10

jobs_app = typer.Typer(help="List, show, follow and steer a store's jobs (over HTTP).")


def submit(
    client: PxmClient,
    method: str,
    path: str,
    *,
    wait: bool,
    as_json: bool,
    **request: Any,
) -> dict[str, Any]:
    """Queue a job, show it, and with `wait` follow it to its end (exit 1 unless success)."""
    job: dict[str, Any] = client.start_job(method, path, **request)["data"]
    if not wait:
        _show_job(job, as_json)
        return job
    return finish(client, job, as_json)


def finish(client: PxmClient, job: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """Follow `job` to its end, then say how it ended; exit 1 unless it succeeded."""
    job = watch_job(client, job)
    status = job["attributes"]["status"]
    if as_json:
        print_json({"data": job})
    else:
        out.print(job_table(job))
    if status == "failed" or (job.get("meta") or {}).get("rows", {}).get("rejected"):
        # A success that left rows out says which, as a failure does.
        _print_first_errors(client, job)
    if status != "success":
        raise typer.Exit(EXIT_JOB_FAILED)
    return job


def _print_first_errors(client: PxmClient, job: dict[str, Any]) -> None:
    document = client.get(
        f"/pcm/jobs/{job['id']}/errors", params={"page[limit]": FIRST_ERRORS_SHOWN}
    )
    total = document["meta"]["results"]["total"]
    err.print(errors_table(document["data"], total))
    if total > len(document["data"]):
        err.print(f"all of them: pxm-jobs jobs errors {job['id']}", highlight=False)


def _show_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json({"data": job})
    else:
        out.print(job_table(job))


class ErrorPolicy(StrEnum):
    REJECT_EVERYTHING = "reject_everything"
    REJECT_FAILED_ROWS = "reject_failed_rows"


def import_products(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report every row; write nothing.")
    ] = False,
    error_policy: Annotated[
        ErrorPolicy | None,
        typer.Option(
            "--error-policy",
            help="reject_everything (the default): one row with a problem and nothing is "
            "imported; reject_failed_rows: import the rows without problems, leave out the others.",
        ),
    ] = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Import products from a CSV file or a gzip of one (a product-import job)."""
    params = {"dry_run": "true"} if dry_run else {}
    if error_policy is not None:
        params["error_policy"] = error_policy.value
    with client_for(api_url, client_id, client_secret, profile) as client, file.open("rb") as csv:
        submit(
            client,
            "POST",
            "/pcm/products/import",
            wait=wait,
            as_json=as_json,
            params=params,
            # The service tells gzip from CSV by the first bytes; the type is only a label.
            files={"file": (file.name, csv, "text/csv")},
        )


def import_prices(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count every object; write nothing.")
    ] = False,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Import price books, prices and modifiers from a JSONL file or a gzip of one (a
    pricebook-import job)."""
    with client_for(api_url, client_id, client_secret, profile) as client, file.open("rb") as lines:
        submit(
            client,
            "POST",
            "/pcm/pricebooks/import",
            wait=wait,
            as_json=as_json,
            params={"dry_run": "true"} if dry_run else {},
            # The service tells gzip from JSONL by the first bytes; the type is only a label.
            files={"file": (file.name, lines, "application/jsonl")},
        )


def export_products(
    filter: Annotated[
        str | None, typer.Option("--filter", help="Which products, e.g. 'like(sku,SHOE-*)'.")
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option("--columns", help="Columns to write (repeat, or comma-separated)."),
    ] = None,
    wait: WaitOption = False,
    download: Annotated[
        Path | None,
        typer.Option("--download", file_okay=False, help="Wait, then save the files here."),
    ] = None,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Export products to CSV files (a product-export job)."""
    chosen = [name.strip() for entry in columns or () for name in entry.split(",") if name.strip()]
    body = {"data": {"type": "product", "attributes": {"columns": chosen}}} if chosen else None
    with client_for(api_url, client_id, client_secret, profile) as client:
        job = submit(
            client,
            "POST",
            "/pcm/products/export",
            wait=wait or download is not None,
            as_json=as_json,
            params={"filter": filter} if filter else {},
            json=body,
        )
        if download is not None:
            download.mkdir(parents=True, exist_ok=True)
            for index, url in enumerate(job["meta"].get("file_locations") or (), start=1):
                saved = client.download(url, download, f"part_{index}.csv")
                err.print(f"saved {saved}", highlight=False)


def duplicate_hierarchy(
    hierarchy_id: str,
    name: Annotated[str | None, typer.Option("--name", help="The copy's name.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="The copy's description.")
    ] = None,
    include_products: Annotated[
        bool, typer.Option("--include-products", help="Link the copied nodes to the products.")
    ] = False,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Copy a hierarchy with its nodes (a hierarchy-duplicate job)."""
    attributes: dict[str, Any] = {"include_products": include_products}
    if name is not None:
        attributes["name"] = name
    if description is not None:
        attributes["description"] = description
    with client_for(api_url, client_id, client_secret, profile) as client:
        submit(
            client,
            "POST",
            f"/pcm/hierarchies/{hierarchy_id}/duplicate_job",
            wait=wait,
            as_json=as_json,
            json={"data": {"type": "hierarchy", "attributes": attributes}},
        )


def build_children(
    product_id: str,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Build a base product's children from its variations (a child-products job)."""
    with client_for(api_url, client_id, client_secret, profile) as client:
        submit(
            client,
            "POST",
            f"/pcm/products/{product_id}/build",
            wait=wait,
            as_json=as_json,
            json={},
        )


def login(
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Check an API key against the service and save it as a profile for the other commands."""
    url = api_url or typer.prompt("API URL", default="http://127.0.0.1:8080")
    key = client_id or typer.prompt("Client id")
    secret = client_secret or typer.prompt("Client secret", hide_input=True)
    with client_for(url, key, secret, None) as client:
        client.sign_in()
    path = save_profile(profile or DEFAULT_PROFILE, Profile(url.rstrip("/"), key, secret))
    err.print(f"signed in; profile {profile or DEFAULT_PROFILE!r} saved in {path}", highlight=False)


@jobs_app.command("list")
def list_jobs(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only these statuses (repeatable).")
    ] = None,
    type: Annotated[
        list[str] | None, typer.Option("--type", help="Only these job types (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 25,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """The store's jobs, newest first."""
    terms = [
        f"in(status,{','.join(status)})" if status else "",
        f"in(type,{','.join(type)})" if type else "",
    ]
    params: dict[str, Any] = {"page[limit]": limit, "page[offset]": offset}
    if any(terms):
        params["filter"] = ":".join(term for term in terms if term)
    with client_for(api_url, client_id, client_secret, profile) as client:
        document = client.get("/pcm/jobs", params=params)
    if as_json:
        print_json(document)
        return
    meta = document["meta"]
    out.print(jobs_table(document["data"], meta["results"]["total"], meta.get("queue")))


@jobs_app.command("show")
def show_job(
    job_id: str,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """One job: its status, times, progress and meta (file links included)."""
    with client_for(api_url, client_id, client_secret, profile) as client:
        _show_job(client.get(f"/pcm/jobs/{job_id}")["data"], as_json)


@jobs_app.command("errors")
def show_errors(
    job_id: str,
    code: Annotated[
        list[str] | None, typer.Option("--code", help="Only errors with these codes.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 1000,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """A job's errors, with the CSV row and column of each."""
    params = {"filter": f"in(code,{','.join(code)})"} if code else {}
    with client_for(api_url, client_id, client_secret, profile) as client:
        found = client.list_all(f"/pcm/jobs/{job_id}/errors", params, limit)
        total = client.get(f"/pcm/jobs/{job_id}/errors", params={**params, "page[limit]": 1})[
            "meta"
        ]["results"]["total"]
    if as_json:
        print_json({"data": found, "meta": {"results": {"total": total}}})
    else:
        out.print(errors_table(found, total))


@jobs_app.command("cancel")
def cancel_job(
    job_id: str,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Cancel a pending job (one that started already cannot be)."""
    with client_for(api_url, client_id, client_secret, profile) as client:
        _show_job(client.request("POST", f"/pcm/jobs/{job_id}/cancel").json()["data"], as_json)


@jobs_app.command("retry")
def retry_job(
    job_id: str,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Queue a failed or cancelled job again, from its stored input."""
    with client_for(api_url, client_id, client_secret, profile) as client:
        submit(client, "POST", f"/pcm/jobs/{job_id}/retry", wait=wait, as_json=as_json)


@jobs_app.command("wait")
def wait_for_job(
    job_id: str,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Follow a job with a progress bar until it ends; exit 1 unless it succeeds."""
    with client_for(api_url, client_id, client_secret, profile) as client:
        finish(client, client.get(f"/pcm/jobs/{job_id}")["data"], as_json)


@jobs_app.command("delete")
def delete_job(
    job_id: str,
    api_url: ApiUrlOption = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete a finished job with its errors and files."""
    with client_for(api_url, client_id, client_secret, profile) as client:
        client.request("DELETE", f"/pcm/jobs/{job_id}")
    err.print(f"deleted {job_id}", highlight=False)


def install_client_commands(app: typer.Typer) -> None:
    """Add the client's commands to the `pxm-jobs` command."""
    app.command("import")(import_products)
    app.command("import-prices")(import_prices)
    app.command("export")(export_products)
    app.command("duplicate")(duplicate_hierarchy)
    app.command("build")(build_children)
    app.command("login")(login)
    app.add_typer(jobs_app, name="jobs")
