// Reload the offline page as soon as the browser is back online.
window.addEventListener("online", () => window.location.reload());
