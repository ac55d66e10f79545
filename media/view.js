// Image view script: buttons post typed messages to the extension host; state survives hiding via setState.
(function () {
  const vscode = acquireVsCodeApi();
  document.querySelectorAll('[data-message]').forEach((el) => {
    el.addEventListener('click', () => vscode.postMessage({ type: el.getAttribute('data-message') }));
  });
  const state = vscode.getState() || {};
  if (typeof state.scrollY === 'number') window.scrollTo(0, state.scrollY);
  window.addEventListener('scroll', () => vscode.setState({ scrollY: window.scrollY }));
  vscode.postMessage({ type: 'ready' });
})();
