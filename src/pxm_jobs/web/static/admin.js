// Live regions of the jobs pages: each asks for its next version and waits for it (a long poll
// the server holds until something changes), so pages update without reloads or busy polling.
"use strict";

(() => {
  const RETRY_FIRST_MS = 1000;
  const RETRY_MAX_MS = 30000;

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function replace(region, html) {
    // Keep the keyboard where it was: the element with the same id gets focus back.
    const focused = region.contains(document.activeElement) ? document.activeElement.id : "";
    region.innerHTML = html;
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
  }

  async function follow(region) {
    let etag = region.dataset.etag || "";
    let retry = RETRY_FIRST_MS;
    for (;;) {
      if (region.querySelector("[data-follow-end]")) return; // nothing will change any more
      const url = new URL(region.dataset.follow, window.location.href);
      url.searchParams.set("wait", "1");
      let response;
      try {
        response = await fetch(url, {
          headers: etag ? { "If-None-Match": etag } : {},
          cache: "no-store",
          credentials: "same-origin",
        });
      } catch (error) {
        await pause(retry);
        retry = Math.min(retry * 2, RETRY_MAX_MS);
        continue;
      }
      if (response.status === 200) {
        etag = response.headers.get("ETag") || etag;
        replace(region, await response.text());
        retry = RETRY_FIRST_MS;
      } else if (response.status === 304) {
        retry = RETRY_FIRST_MS;
      } else if (response.status === 401 || response.status === 403) {
        window.location.assign("/admin/sign-in");
        return;
      } else if (response.status === 404) {
        return; // the job was deleted meanwhile: nothing more to follow
      } else {
        await pause(retry);
        retry = Math.min(retry * 2, RETRY_MAX_MS);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-follow]").forEach((region) => follow(region));
  });
})();
