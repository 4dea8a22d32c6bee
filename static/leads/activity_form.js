// Activity forms: show only the outcomes that belong to the chosen kind (a note has none).
// Event delegation, so forms swapped in by htmx work without re-binding.
(function () {
  function sync(kindSelect) {
    var form = kindSelect.form;
    var outcome = form && form.querySelector('select[name=outcome]');
    if (!outcome) return;
    var label = kindSelect.options[kindSelect.selectedIndex].text.toLowerCase();
    var groups = outcome.querySelectorAll('optgroup');
    for (var i = 0; i < groups.length; i++) {
      var kind = groups[i].getAttribute('data-kind');
      var match = kind ? kind === kindSelect.value : groups[i].label.toLowerCase() === label;
      groups[i].hidden = !match;
      groups[i].disabled = !match;
    }
    var chosen = outcome.options[outcome.selectedIndex];
    if (chosen && chosen.parentElement.tagName === 'OPTGROUP' && chosen.parentElement.disabled) outcome.value = '';
    outcome.disabled = kindSelect.value === 'note';
  }
  function syncAll(root) {
    var selects = (root || document).querySelectorAll('select[name=kind]');
    for (var i = 0; i < selects.length; i++) sync(selects[i]);
  }
  document.addEventListener('change', function (e) {
    if (e.target.matches && e.target.matches('select[name=kind]')) sync(e.target);
  });
  document.addEventListener('DOMContentLoaded', function () { syncAll(document); });
  document.addEventListener('htmx:afterSwap', function () { syncAll(document); });
})();
