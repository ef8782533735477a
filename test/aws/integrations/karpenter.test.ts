import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CapacityBlockPurchase } from '../../../lib';
import { resourceKeys } from '../../../lib/aws/handler/ownership';
import { BLOCK_ZONE, deployTimeString, logicalIdOf, newStack, p5Block, threeZoneVpc, ultraBlock } from './fixtures';
import { karpenterSchemaErrors } from './karpenter-crd';

/** What EC2 answers at deploy time, in EC2's formats, for the attributes the manifests refer to. */
const DEPLOYED: Record<string, string> = { CapacityReservationId: 'cr-0123456789abcdef0', AvailabilityZone: BLOCK_ZONE };

/** An EC2NodeClass and a NodePool on `block`, applied through cluster.addManifest as a user would. */
function applyKarpenter(stack: Stack, block: CapacityBlockPurchase): void {
  const cluster = new eksv2.Cluster(stack, 'Cluster', {
    version: eksv2.KubernetesVersion.of('1.33'),
    vpc: threeZoneVpc(stack),
    kubectlProviderOptions: { kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', 'arn:aws:lambda:us-east-2:123456789012:layer:kubectl:1') },
  });
  cluster.addManifest('CapacityBlockNodes',
    {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name: 'capacity-block' },
      spec: {
        role: 'KarpenterNodeRole-training',
        amiSelectorTerms: [{ alias: 'al2023@latest' }],
        subnetSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'training' } }],
        securityGroupSelectorTerms: [{ tags: { 'karpenter.sh/discovery': 'training' } }],
        capacityReservationSelectorTerms: block.karpenterSelectorTerms(),
      },
    },
    {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: 'capacity-block' },
      spec: {
        template: {
          spec: {
            nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'capacity-block' },
            requirements: block.karpenterRequirements(),
          },
        },
      },
    });
}

/** The manifests as the kubectl handler would apply them once CloudFormation has resolved them. */
function deployedManifests(stack: Stack): any[] {
  const resources = Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-KubernetesResource');
  const [manifest] = Object.values(resources).map(r => r.Properties.Manifest);
  return JSON.parse(deployTimeString(manifest, { attributes: DEPLOYED }));
}

describe('Karpenter', () => {
  test('an instance block is selected by its reservation id, and the NodePool is kept to reserved capacity, its type and zone', () => {
    const stack = newStack();
    const block = p5Block(stack);

    const terms = stack.resolve(block.karpenterSelectorTerms());
    const requirements = stack.resolve(block.karpenterRequirements());

    expect(terms).toEqual([{ id: { 'Fn::GetAtt': [logicalIdOf(Template.fromStack(stack), 'Custom::CapacityBlockPurchase'), 'CapacityReservationId'] } }]);
    expect(requirements).toEqual([
      { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['reserved'] },
      { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['p5.48xlarge'] },
      { key: 'topology.kubernetes.io/zone', operator: 'In', values: [BLOCK_ZONE] },
    ]);
  });

  test('a block bought in any zone keeps the NodePool to the zone EC2 answers', () => {
    const stack = newStack();
    const block = p5Block(stack, { availabilityZone: undefined });

    expect(stack.resolve(block.karpenterRequirements())[2]).toEqual({
      key: 'topology.kubernetes.io/zone', operator: 'In', values: [{ 'Fn::GetAtt': [expect.stringMatching(/^Block/), 'AvailabilityZone'] }],
    });
  });

  test('an UltraServer block is selected by the owner tag the handler writes on each of its reservations', () => {
    const stack = newStack();
    const block = ultraBlock(stack);

    const [term] = stack.resolve(block.karpenterSelectorTerms());

    const logicalId = logicalIdOf(Template.fromStack(stack), 'Custom::CapacityBlockPurchase');
    const owner = resourceKeys({ StackId: 'arn:aws:cloudformation:us-east-2:123456789012:stack/Stack/5b7c9a10-0000-4000-8000-000000000000', LogicalResourceId: logicalId, RequestId: 'r-1' }).owner;
    expect(term).toEqual({ tags: { 'cdk-capacity-reservations:owner': owner } });
  });

  test.each([
    ['an instance block', p5Block, [{ id: 'cr-0123456789abcdef0' }]],
    ['an UltraServer block', ultraBlock, [{ tags: { 'cdk-capacity-reservations:owner': expect.stringMatching(/^Stack\/Ultra[0-9A-F]{8}$/) } }]],
  ])('the EC2NodeClass and NodePool applied through addManifest for %s hold against Karpenter\'s published CRD schema', (_name, newBlock, terms) => {
    const stack = newStack();
    applyKarpenter(stack, newBlock(stack));

    const manifests = deployedManifests(stack);

    expect(manifests.map(m => m.kind)).toEqual(['EC2NodeClass', 'NodePool']);
    expect(manifests[0].spec.capacityReservationSelectorTerms).toEqual(terms);
    expect(manifests[1].spec.template.spec.requirements).toContainEqual({ key: 'topology.kubernetes.io/zone', operator: 'In', values: [BLOCK_ZONE] });
    expect(karpenterSchemaErrors(manifests)).toEqual([]);
  });

  test('fails the schema check on terms Karpenter would refuse: the check is not vacuous', () => {
    const stack = newStack();
    applyKarpenter(stack, p5Block(stack));
    const [nodeClass, nodePool] = deployedManifests(stack);
    nodeClass.spec.capacityReservationSelectorTerms = [
      { id: 'sg-0123456789abcdef0' },
      { id: 'cr-0123456789abcdef0', tags: { team: 'llm' } },
      ...Array.from({ length: 29 }, (_, i) => ({ id: `cr-${i}` })),
    ];
    nodePool.spec.template.spec.requirements[0].values = [];

    const errors = karpenterSchemaErrors([nodeClass, nodePool]);

    expect(errors).toEqual(expect.arrayContaining([
      expect.stringMatching(/capacityReservationSelectorTerms must NOT have more than 30 items/),
      expect.stringMatching(/capacityReservationSelectorTerms\/0\/id must match pattern "\^cr-\[0-9a-z\]\+\$"/),
      expect.stringMatching(/'id' is mutually exclusive/),
      expect.stringMatching(/requirements with operator 'In' must have a value defined/),
    ]));
  });

  test('GIVEN a previewOnly block WHEN its EC2NodeClass is applied THEN it selects no reservation, and the manifests still hold against the CRD schema', () => {
    const stack = newStack();
    applyKarpenter(stack, p5Block(stack, { previewOnly: true }));

    const manifests = deployedManifests(stack);

    expect(manifests[0].spec.capacityReservationSelectorTerms).toEqual([]);
    expect(manifests[1].spec.template.spec.requirements[0]).toEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['reserved'] });
    expect(karpenterSchemaErrors(manifests)).toEqual([]);
  });
});
