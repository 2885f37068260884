// Behaviour shared by every admin page. Loaded as a file: the admin's
// Content-Security-Policy runs no inline script or handler attribute.

// Copy buttons beside feed URLs. The Clipboard API needs a secure context; elsewhere
// the field is selected and copied the old way.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const text = button.dataset.copy;
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const field = button.parentElement.querySelector("input.url");
    field.select();
    document.execCommand("copy");
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
});

// Forms that destroy something ask first: <form data-confirm="question">.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
