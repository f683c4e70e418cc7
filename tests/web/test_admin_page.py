"""The context-file uploader (`/admin/context`) in a real browser: the token asked once and
kept for the tab, a wrong token refused with the server's own message, uploads by picker and
by drag and drop driven to 100 %, the file list, delete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import ADMIN_TOKEN, PageProbe, screenshot

need_at_import(missing_playwright())
from playwright.sync_api import Locator, Page, expect  # noqa: E402

TOKEN_KEY = "storestream.adminToken"

RECORD_PERCENT_JS = """el => {
    window.__percents = [];
    new MutationObserver(() => window.__percents.push(Number(el.dataset.percent)))
        .observe(el, {attributes: true, attributeFilter: ['data-percent']});
}"""

DROP_JS = """([zone, name, text]) => {
    const data = new DataTransfer();
    data.items.add(new File([text], name, {type: 'text/markdown'}));
    for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
    }
}"""


def server_files(app: AppServer) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{app.url}/api/context/files", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                         timeout=15)
    assert response.status_code == 200, response.text
    return {f["name"]: f for f in response.json()["files"]}


def document(title: str) -> str:
    """A size guide long enough for several chunks, unique so it is never a duplicate."""
    paragraphs = [
        f"## {title} section {i}\n\n"
        + " ".join(f"Kurta size {s} fits a chest of {36 + 2 * n} inches and a length of {40 + n} inches."
                   for n, s in enumerate(["XS", "S", "M", "L", "XL", "XXL"] * 6))
        for i in range(12)
    ]
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + f"\n\nReference {uuid.uuid4().hex}\n"


def sign_in(page: Page, token: str) -> Locator:
    admin = page.locator("storestream-context-admin")
    box = admin.get_by_label("Admin token")
    box.fill(token)
    box.press("Enter")
    return admin


def row(admin: Locator, name: str) -> Locator:
    return admin.locator("tr", has=admin.page.locator("td.ss-file-name", has_text=name))


def test_wrong_token_shows_the_refusal_and_asks_again(web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/admin/context")
    admin = sign_in(page, "not-the-token")
    refusal = httpx.get(f"{web_app.url}/api/context/files", headers={"Authorization": "Bearer not-the-token"},
                        timeout=15)
    assert refusal.status_code == 403
    expect(admin.locator(".ss-status")).to_have_text(refusal.json()["error"])
    expect(admin.get_by_label("Admin token")).to_be_visible()  # asked again
    expect(admin.locator(".ss-uploader")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert probe.errors == []
    screenshot(page, "admin-context-refused")


def test_upload_to_100_percent_list_and_delete(
    web_app: AppServer, new_page: Callable[..., PageProbe], tmp_path: Path
) -> None:
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/admin/context")
    admin = sign_in(page, ADMIN_TOKEN)
    expect(admin.locator(".ss-uploader")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == ADMIN_TOKEN

    # By the file picker.
    name = f"size-guide-{uuid.uuid4().hex[:6]}.md"
    (tmp_path / name).write_text(document("Size guide"), encoding="utf-8")
    admin.evaluate(RECORD_PERCENT_JS)
    admin.locator("input[type=file]").set_input_files(tmp_path / name)
    expect(admin).to_have_attribute("data-state", "done")
    percents = page.evaluate("window.__percents")
    assert percents[-1] == 100 and percents == sorted(percents), percents
    assert len(set(percents)) >= 4, f"the bar should move through the steps: {percents}"
    expect(admin.locator("progress")).to_have_attribute("value", "100")

    stored = server_files(web_app)[name]
    assert stored["chunks"] > 1
    expect(admin.locator(".ss-result")).to_have_text(f"{name}: {stored['chunks']} chunks, {stored['tokens']} tokens.")
    uploaded = row(admin, name)
    expect(uploaded).to_be_visible()
    expect(uploaded.locator("td.ss-num")).to_have_text([str(stored["chunks"]), str(stored["tokens"])])
    screenshot(page, "admin-context-uploaded")

    # The token is kept for the tab: a reload goes straight to the list.
    page.reload()
    expect(row(page.locator("storestream-context-admin"), name)).to_be_visible()
    expect(page.get_by_label("Admin token")).to_be_hidden()

    # By drag and drop.
    admin = page.locator("storestream-context-admin")
    dropped = f"returns-{uuid.uuid4().hex[:6]}.md"
    admin.locator(".ss-drop").evaluate(
        "(zone, args) => (" + DROP_JS + ")([zone, ...args])", [dropped, document("Returns")]
    )
    expect(admin).to_have_attribute("data-state", "done")
    expect(row(admin, dropped)).to_be_visible()
    assert dropped in server_files(web_app)

    # Delete takes two presses (no modal dialog).
    remove = row(admin, name).get_by_role("button", name="Delete")
    remove.click()
    expect(row(admin, name).get_by_role("button")).to_have_text("Confirm delete")
    row(admin, name).get_by_role("button").click()
    expect(row(admin, name)).to_have_count(0)
    assert name not in server_files(web_app) and dropped in server_files(web_app)
    assert probe.errors == [] and probe.dialogs == []
