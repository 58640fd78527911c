// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettierConfig from "eslint-config-prettier";
import { builtinModules } from "node:module";

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Orchestrators and entities replay: they must be deterministic and do no I/O. */
const replaySafety = {
  files: ["orchestrations/**/*.ts"],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        paths: nodeBuiltins.map((name) => ({
          name,
          message: "Orchestrations replay: no Node built-ins (I/O belongs in activities/).",
        })),
        patterns: [
          {
            group: [
              "@azure/storage-blob",
              "@azure/event-hubs",
              "@azure/arm-network",
              "@azure/identity",
              "@azure/data-tables",
              "rhea",
              "azurite",
              "**/activities/**",
              "**/devhost/**",
              "**/bench/**",
              "**/cli/**",
              "**/src/adapters/**",
            ],
            message: "Orchestrations replay: no SDK clients or I/O modules; call an activity.",
          },
        ],
      },
    ],
    "no-restricted-properties": [
      "error",
      { object: "Date", property: "now", message: "Use context.df.currentUtcDateTime." },
      { object: "Math", property: "random", message: "Replay must be deterministic." },
      { object: "process", property: "env", message: "Pass settings in the orchestration input." },
    ],
    "no-restricted-globals": [
      "error",
      { name: "setTimeout", message: "Use context.df.createTimer." },
      { name: "setInterval", message: "Use context.df.createTimer." },
      { name: "fetch", message: "I/O belongs in activities/." },
      { name: "process", message: "Pass settings in the orchestration input." },
    ],
    "no-restricted-syntax": [
      "error",
      {
        selector: "NewExpression[callee.name='Date'][arguments.length=0]",
        message: "Use context.df.currentUtcDateTime.",
      },
    ],
  },
};

const standInsAndTools = ["**/devhost", "**/devhost/**", "**/bench", "**/bench/**", "**/cli", "**/cli/**"];
const standInsMessage = "Deployed code (src/, orchestrations/, activities/) never imports devhost/, bench/ or cli/.";

/** What ships to Azure never loads the stand-ins, the bench or the CLI (they are not deployed). */
const deployedStaysApart = {
  files: ["src/**/*.ts"],
  rules: {
    "no-restricted-imports": ["error", { patterns: [{ group: standInsAndTools, message: standInsMessage }] }],
  },
};

/** Activities take their contracts from src/contracts: no import runs back up to orchestrations/. */
const activitiesStayBelow = {
  files: ["activities/**/*.ts"],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          { group: standInsAndTools, message: standInsMessage },
          {
            group: ["**/orchestrations", "**/orchestrations/**"],
            message: "Activities import their contracts from src/contracts, never from orchestrations/.",
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "bench/results.json"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettierConfig,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "max-len": [
        "error",
        {
          code: 120,
          ignoreUrls: true,
          ignoreStrings: false,
          ignoreTemplateLiterals: false,
          ignoreRegExpLiterals: false,
        },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  deployedStaysApart,
  activitiesStayBelow,
  replaySafety,
);
