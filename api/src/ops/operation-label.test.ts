import { buildSchema, FragmentDefinitionNode, getOperationAST, Kind, parse } from 'graphql';
import { operationLabel } from './operation-label';

const schema = buildSchema(`
  type Query { me: User, group(id: ID!): Group }
  type Mutation { sendMessage(body: String!): ID }
  type User { id: ID }
  type Group { id: ID }
`);

const label = (source: string, operationName?: string) => {
  const document = parse(source);
  const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  return operationLabel(schema, getOperationAST(document, operationName), fragments);
};

describe('operationLabel', () => {
  it('is the root field, whatever the operation is called or aliased', () => {
    expect(label(`query AnythingAtAll { me { id } }`)).toBe('me');
    expect(label(`{ x: me { id } y: me { id } }`)).toBe('me');
    expect(label(`mutation M { sendMessage(body: "hi") }`)).toBe('sendMessage');
    expect(label(`{ __typename }`)).toBe('__typename');
  });

  it('looks through fragments on the root type', () => {
    expect(label(`{ ...F } fragment F on Query { me { id } }`)).toBe('me');
    expect(label(`{ ... on Query { group(id: 1) { id } } }`)).toBe('group');
    expect(label(`{ me { id } ...F } fragment F on Query { group(id: 1) { id } }`)).toBe('multiple');
  });

  it('is multiple for several root fields and invalid when no operation resolved', () => {
    expect(label(`{ me { id } group(id: 1) { id } }`)).toBe('multiple');
    expect(label(`query A { me { id } } query B { me { id } }`)).toBe('invalid');
    expect(label(`query A { me { id } }`, 'Unknown')).toBe('invalid');
    expect(label(`subscription S { me }`)).toBe('invalid');
  });

  it('never passes on a name the schema does not have', () => {
    expect(label(`{ madeUpFieldName }`)).toBe('invalid');
    expect(label(`{ constructor }`)).toBe('invalid');
  });
});
