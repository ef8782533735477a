/**
 * Karpenter's published CRD schemas, to check the manifests our helpers produce against.
 *
 * The OpenAPI schemas come compiled in @kubernetes-models/karpenter 2.0.0 (a devDependency: the
 * karpenter.k8s.aws/v1 EC2NodeClass and karpenter.sh/v1 NodePool types of karpenter-provider-aws
 * v1.12, which keep the v1.6 capacityReservationSelectorTerms: `id` pattern ^cr-[0-9a-z]+$, at most
 * 30 terms, at most 20 tags). The package is ESM-only, so it runs in a child Node process.
 *
 * The compiled schemas leave out the CRD's CEL rules (x-kubernetes-validations); the ones that bear
 * on what the helpers write are below, from the CRD as published:
 * https://github.com/aws/karpenter-provider-aws/blob/v1.6.0/pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml
 * (spec.capacityReservationSelectorTerms) and
 * https://github.com/aws/karpenter-provider-aws/blob/v1.6.0/pkg/apis/crds/karpenter.sh_nodepools.yaml
 * (spec.template.spec.requirements).
 */
import { execFileSync } from 'child_process';

const VALIDATE = `
import { EC2NodeClass } from '@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass';
import { NodePool } from '@kubernetes-models/karpenter/karpenter.sh/v1/NodePool';
const models = { EC2NodeClass, NodePool };
let input = '';
for await (const chunk of process.stdin) input += chunk;
const errors = [];
for (const object of JSON.parse(input)) {
  const Model = models[object.kind];
  if (!Model) { errors.push(object.kind + ': not a Karpenter kind this check knows'); continue; }
  try { new Model(object).validate(); } catch (e) { errors.push(object.kind + ' ' + object.metadata?.name + ': ' + e.message); }
}
process.stdout.write(JSON.stringify(errors));
`;

type Json = any;

/** Every way `objects` break the published schemas or CEL rules, one line each; [] when they hold. */
export function karpenterSchemaErrors(objects: Json[]): string[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', VALIDATE], { input: JSON.stringify(objects), cwd: __dirname, encoding: 'utf8' });
  return [...JSON.parse(out) as string[], ...objects.flatMap(celErrors)];
}

function celErrors(object: Json): string[] {
  const errors: string[] = [];
  const name = `${object.kind} ${object.metadata?.name}`;
  for (const term of (object.kind === 'EC2NodeClass' ? object.spec?.capacityReservationSelectorTerms : undefined) ?? []) {
    // "expected at least one, got none, ['tags', 'id']": self.all(x, has(x.tags) || has(x.id))
    if (term.id === undefined && term.tags === undefined) errors.push(`${name}: expected at least one, got none, ['tags', 'id']`);
    // "'id' is mutually exclusive, cannot be set along with tags in a capacity reservation selector term".
    // The CRD writes it as !self.all(x, has(x.id) && (has(x.tags) || has(x.ownerID))); checked per term
    // here, which is stricter than that expression and what its message says.
    if (term.id !== undefined && (term.tags !== undefined || term.ownerID !== undefined)) errors.push(`${name}: 'id' is mutually exclusive, cannot be set along with tags in a capacity reservation selector term`);
    // "empty tag keys or values aren't supported": self.all(k, k != '' && self[k] != '')
    if (Object.entries(term.tags ?? {}).some(([k, v]) => k === '' || v === '')) errors.push(`${name}: empty tag keys or values aren't supported`);
  }
  for (const requirement of (object.kind === 'NodePool' ? object.spec?.template?.spec?.requirements : undefined) ?? []) {
    // "requirements with operator 'In' must have a value defined"
    if (requirement.operator === 'In' && !(requirement.values?.length > 0)) errors.push(`${name}: requirements with operator 'In' must have a value defined`);
  }
  return errors;
}
