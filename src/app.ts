/**
 * The Functions app entry point (package.json `main`): loading it registers every function.
 * The Functions host loads it in Azure; `devhost/host` loads it on one machine.
 */
import "./functions";
