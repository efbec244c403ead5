import { render } from "preact";
import { configureApi } from "./api/client";
import { App, BootFailure, PopupDone } from "./app";
import { handleCallback, configure } from "./auth/session";
import { loadConfig } from "./config";
import { BASE, navigate } from "./router";
import "./styles.css";

async function boot(root: HTMLElement): Promise<void> {
  let signInError: Error | null = null;
  try {
    const config = await loadConfig(BASE);
    configure(config, BASE);
    configureApi(config.apiUrl);
    const url = new URL(location.href);
    if (url.pathname === `${BASE}callback`) {
      try {
        const result = await handleCallback(url);
        if (result.kind === "popup") {
          render(<PopupDone />, root);
          window.close();
          return;
        }
        if (result.kind === "signed-in") navigate(result.returnTo, { replace: true });
      } catch (error) {
        signInError = error instanceof Error ? error : new Error(String(error));
        history.replaceState(null, "", BASE);
      }
    }
  } catch (error) {
    render(<BootFailure error={error instanceof Error ? error : new Error(String(error))} />, root);
    return;
  }
  render(<App signInError={signInError} />, root);
}

void boot(document.getElementById("app")!);
