// Entry point of the browser bundle (Vite builds it into dist/ui/).

import { render } from "preact";
import { App, startEarly } from "./app.js";

const root = document.getElementById("app");
// The requests start before the first render (see startEarly).
if (root) render(<App start={startEarly()} />, root);
