// Docket's pages work without this file; it adds what htmx needs and little else.
// Every htmx request carries the session's CSRF token, as every form does.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
