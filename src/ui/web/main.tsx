// Entry point of the browser bundle (Vite builds it into dist/ui/).

import { render } from "preact";
import { App } from "./app.js";

const root = document.getElementById("app");
if (root) render(<App />, root);
