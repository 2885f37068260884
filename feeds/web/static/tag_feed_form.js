// The tag feed form's live preview: posts the form to the preview route as it changes.
(() => {
  const form = document.getElementById("tag-feed-form");
  const list = document.getElementById("preview-items");
  const status = document.getElementById("preview-status");
  let timer = null;
  let serial = 0;

  const title = form.elements.namedItem("title");
  const slug = form.elements.namedItem("slug");
  // The slug follows the title until someone edits it (or the feed already has one).
  let slugTouched = slug.value !== "";
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 100).replace(/-+$/, "");
  }
  slug.addEventListener("input", () => { slugTouched = slug.value !== ""; });
  title.addEventListener("input", () => { if (!slugTouched) slug.value = slugify(title.value); });

  // Nothing to preview until the rule has something in it: no error before typing.
  function ruleIsEmpty() {
    const typed = ["any_of", "all_of"].some((n) => form.elements.namedItem(n).value.trim() !== "");
    return !typed && form.querySelectorAll("input[name=sections]:checked").length === 0;
  }

  async function preview() {
    if (ruleIsEmpty()) {
      serial++;
      list.replaceChildren();
      status.textContent = "type hashtags or tick sections to see matching articles";
      return;
    }
    const mine = ++serial;  // answers that arrive late must not overwrite newer ones
    status.textContent = "loading…";
    const body = new FormData(form);
    // A disabled fieldset leaves its fields out of FormData; read-only feeds still preview.
    for (const el of form.querySelectorAll("fieldset[disabled] [name]")) {
      if ((el.type === "checkbox" && !el.checked)) continue;
      body.append(el.name, el.type === "checkbox" ? "on" : el.value);
    }
    let response;
    try {
      response = await fetch(form.dataset.preview, {
        method: "POST", body, credentials: "same-origin",
        headers: {"X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content},
      });
    } catch (err) {
      if (mine === serial) status.textContent = "preview failed: " + err;
      return;
    }
    if (mine !== serial) return;
    if (response.redirected) { status.textContent = "session expired: reload and log in"; return; }
    const data = await response.json();
    list.replaceChildren();
    if (!data.ok) {
      status.textContent = Object.entries(data.errors).map(([k, v]) => k + ": " + v).join("; ");
      return;
    }
    status.textContent = data.count + (data.count === 1 ? " article" : " articles");
    for (const item of data.items) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.title;
      const meta = document.createElement("small");
      meta.className = "muted";
      meta.textContent = " " + item.section + " · " + item.hashtags.map((t) => "#" + t).join(" ");
      li.append(a, meta);
      list.append(li);
    }
  }

  function later() { clearTimeout(timer); timer = setTimeout(preview, 300); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  document.getElementById("preview-button").addEventListener("click", preview);
  preview();
})();
