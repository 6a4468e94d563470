// parkshare operator console: mark a preview outdated once the form changes; confirm revokes.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("schedule-form");
  const week = document.querySelector("[data-testid=week-section][data-proposed=yes]");
  if (form && week) {
    const outdated = week.querySelector("[data-testid=outdated]");
    const mark = function () {
      outdated.hidden = false;
      week.querySelectorAll("table").forEach(function (table) { table.classList.add("outdated"); });
    };
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (revoke) {
    revoke.addEventListener("submit", function (event) {
      if (!window.confirm(revoke.dataset.confirm)) { event.preventDefault(); }
    });
  });
});
