// On paper every dropdown is open: a closed <details> (a worked case's record and report, a
// solution) prints as its one-line summary, and a reader with the printout cannot click it.
// Opened just before printing and closed again after, as the reader left them.
(() => {
  const opened = [];
  window.addEventListener("beforeprint", () => {
    for (const details of document.querySelectorAll("details:not([open])")) {
      details.open = true;
      opened.push(details);
    }
  });
  window.addEventListener("afterprint", () => {
    for (const details of opened.splice(0)) details.open = false;
  });
})();
