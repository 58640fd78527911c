/**
 * The Functions app entry point (package.json `main`): loading it registers every function.
 * The Functions host loads it in Azure; `src/local/host` loads it on one machine.
 */
import "./functions";
