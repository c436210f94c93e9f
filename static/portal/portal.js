/* Page behaviour shared by every screen: the collapsed navigation, menus that close on Escape, local times. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fn); } else { fn(); }
  }

  ready(function () {
    // Navigation: under ~700 px it folds behind the "Menu" button.
    var toggle = document.getElementById("nav-toggle");
    var topbar = toggle && toggle.closest(".topbar");
    function setNav(open) {
      if (!toggle) { return; }
      topbar.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (toggle) {
      toggle.addEventListener("click", function () { setNav(!topbar.classList.contains("nav-open")); });
    }

    // Menus are <details>: they open by keyboard without this script; Escape and a click elsewhere close them.
    function openMenus() { return document.querySelectorAll("details.menu[open]"); }
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      openMenus().forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary) { summary.focus(); }
      });
      if (topbar && topbar.classList.contains("nav-open")) { setNav(false); toggle.focus(); }
    });
    document.addEventListener("click", function (event) {
      openMenus().forEach(function (menu) {
        if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
      });
    });
    // Arrow keys move between the items of an open menu.
    document.querySelectorAll("details.menu").forEach(function (menu) {
      menu.addEventListener("keydown", function (event) {
        if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
        var items = Array.prototype.slice.call(menu.querySelectorAll("[role=menuitem]:not([aria-disabled=true])"));
        if (!items.length) { return; }
        event.preventDefault();
        if (!menu.open) { menu.open = true; }
        var at = items.indexOf(document.activeElement);
        var next = event.key === "ArrowDown" ? at + 1 : at - 1;
        items[(next + items.length) % items.length].focus();
      });
    });
  });
}());
