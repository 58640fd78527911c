/** A sample app module: loading it registers the functions, as package.json `main` does for the real app. */
import { registerSampleApp } from "./sampleApp";

registerSampleApp();
