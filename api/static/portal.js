// The portal's drop zones: a real <input type=file multiple> does the work; this lets a
// person drop files on its zone too, and lists the files chosen.
(function () {
  function list(zone, input) {
    var chosen = zone.querySelector("[data-chosen]");
    if (!chosen) { return; }
    chosen.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      item.textContent = file.name;
      chosen.appendChild(item);
    });
  }
  function enhance(zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    input.addEventListener("change", function () { list(zone, input); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        list(zone, input);
      }
    });
  }
  // a custom field for one product shows only while that product is chosen (without
  // script they all show, and the server leaves out those of other products)
  function showFieldsOf(product) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-product]"), function (box) {
      box.hidden = box.getAttribute("data-product") !== product.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-drop]"), enhance);
    var product = document.getElementById("product");
    if (product) {
      showFieldsOf(product);
      product.addEventListener("change", function () { showFieldsOf(product); });
    }
  });
  // an article opened from the suggestions takes the reader's focus
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "reading") {
      var article = event.detail.target.querySelector("article");
      if (article) { article.focus(); }
    }
  });
})();
