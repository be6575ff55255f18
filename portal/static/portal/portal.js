// Behaviour of every page, kept out of the HTML so the Content-Security-Policy allows no inline
// script: the language switch submits its form when a language is chosen.
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});

// Print buttons (the one-time passwords page).
document.addEventListener("click", function (event) {
  if (event.target.matches("[data-print]")) {
    window.print();
  }
});
