// parkshare driver pages: a click on the map chooses the place (GCJ-02, as the map shows it);
// the custom from/to fields show only when "custom" is chosen. The pages work without it.
"use strict";
(function () {
  const R = 6378137;
  // Mark the picked place (GCJ-02 lon/lat → the map's Web Mercator coordinates, y down).
  function showPin(svg, point) {
    let pin = svg.querySelector("circle.pin");
    if (!pin) {
      pin = document.createElementNS("http://www.w3.org/2000/svg", "circle");
      pin.setAttribute("class", "pin");
      const box = svg.getAttribute("viewBox").split(/\s+/).map(Number);
      pin.setAttribute("r", (Math.max(box[2], box[3]) / 100).toFixed(0));
      svg.appendChild(pin);
    }
    const x = point.lon * Math.PI / 180 * R;
    const y = -Math.log(Math.tan(Math.PI / 4 + point.lat * Math.PI / 360)) * R;
    pin.setAttribute("cx", x.toFixed(0));
    pin.setAttribute("cy", y.toFixed(0));
  }
  document.querySelectorAll("form[data-pick-map]").forEach((form) => {
    const map = document.getElementById(form.dataset.pickMap);
    const field = (name) => form.querySelector(`[name="${name}"]`);
    if (map) {
      map.addEventListener("map-pick", (event) => {
        field("lat").value = event.detail.lat.toFixed(6);
        field("lon").value = event.detail.lon.toFixed(6);
        field("coords").value = "gcj02";
        field("place").value = "";
        if (form.dataset.pickSubmit !== undefined) { form.requestSubmit(); return; }
        showPin(map, event.detail);
      });
    }
    ["lat", "lon"].forEach((name) => {
      const input = field(name);
      if (input) input.addEventListener("input", () => { field("place").value = ""; });
    });
    const custom = form.querySelector("[data-custom-window]");
    if (custom) {
      const update = () => {
        const chosen = form.querySelector('input[name="when"]:checked');
        custom.hidden = !chosen || chosen.value !== "custom";
      };
      form.querySelectorAll('input[name="when"]').forEach((radio) => radio.addEventListener("change", update));
      update();
    }
  });
})();
