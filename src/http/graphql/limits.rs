//! What a GraphQL document costs before it runs: Appwrite's depth and complexity (webonyx
//! `QueryDepth` and `QueryComplexity`, which Appwrite 1.9.6 configures from
//! `_APP_GRAPHQL_MAX_DEPTH` and `_APP_GRAPHQL_MAX_COMPLEXITY`), plus the bounds that keep
//! introspection (which Appwrite turns off and we keep on) from multiplying its output.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned};
use std::collections::HashMap;

/// Appwrite's `_APP_GRAPHQL_MAX_DEPTH`.
pub const MAX_DEPTH: usize = 3;
/// Appwrite's `_APP_GRAPHQL_MAX_COMPLEXITY`.
pub const MAX_COMPLEXITY: usize = 250;
/// Introspection only: the standard query of GraphiQL and codegen tools nests `ofType` deeply
/// (depth 11 in webonyx's count), so it gets a deeper limit of its own...
pub const MAX_INTROSPECTION_DEPTH: usize = 15;
pub const MAX_INTROSPECTION_COMPLEXITY: usize = 500;
/// ...and at most three nested lists (`types { fields { args } }`), so a query cannot walk
/// `fields { type { fields { type { fields … } } } }` into millions of objects.
pub const MAX_INTROSPECTION_LISTS: usize = 3;
/// Selections (fields, spreads, inline fragments) walked before the document is called too
/// costly: fragments spread in fragments can describe exponentially many selections in a
/// small document, so the walk itself needs a bound, not only the fields it finds.
const MAX_VISITS: usize = 10_000;
/// Brackets nested in one another before the parser is even asked: it recurses on values
/// (`[[[[…]]]]`) as well as on selection sets.
pub const MAX_NESTING: usize = 64;

/// The introspection fields whose value is a list.
const LIST_FIELDS: &[&str] = &[
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
    "locations",
];

/// What one operation costs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// webonyx's depth: the deepest field with a selection set, root fields at 0.
    pub depth: usize,
    /// webonyx's default complexity: every field counts 1, fragments inlined.
    pub complexity: usize,
    /// Whether a root field is `__schema` or `__type`.
    pub introspection: bool,
    /// Whether a root field is not introspection (`__typename` included in introspection).
    pub other_root: bool,
    /// The most introspection lists nested in one another.
    pub lists: usize,
    /// Whether an introspection field has an alias (aliases are how one field is asked for
    /// many times; no introspection tool needs them).
    pub aliased_introspection: bool,
}

struct Walk<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    stack: Vec<&'a str>,
    /// Every selection walked, shared by the whole operation.
    visits: usize,
    cost: Cost,
}

impl<'a> Walk<'a> {
    /// The complexity of `set`; records depth, root kinds and list nesting on the way.
    fn set(&mut self, set: &'a SelectionSet, depth: usize, lists: usize, intro: bool) -> usize {
        let mut complexity = 0usize;
        for item in &set.items {
            if self.visits >= MAX_VISITS {
                return complexity;
            }
            self.visits += 1;
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let name = f.name.node.as_str();
                    let root_intro = name == "__schema" || name == "__type";
                    if depth == 0 {
                        self.cost.introspection |= root_intro;
                        self.cost.other_root |= !name.starts_with("__");
                    }
                    let intro = intro || root_intro;
                    let lists = lists + usize::from(intro && LIST_FIELDS.contains(&name));
                    self.cost.lists = self.cost.lists.max(lists);
                    if intro && f.alias.is_some() {
                        self.cost.aliased_introspection = true;
                    }
                    let children = if f.selection_set.node.items.is_empty() {
                        0
                    } else {
                        self.cost.depth = self.cost.depth.max(depth);
                        self.set(&f.selection_set.node, depth + 1, lists, intro)
                    };
                    complexity = complexity.saturating_add(1).saturating_add(children);
                }
                Selection::InlineFragment(i) => {
                    let c = self.set(&i.node.selection_set.node, depth, lists, intro);
                    complexity = complexity.saturating_add(c);
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    // A cycle is reported by validation; here it only must not loop.
                    if self.stack.contains(&name) {
                        continue;
                    }
                    // A chain of spreads nests without brackets: bound it as brackets are.
                    if self.stack.len() >= MAX_NESTING {
                        self.visits = MAX_VISITS;
                        return complexity;
                    }
                    if let Some(def) = self.fragments.get(name) {
                        self.stack.push(name);
                        let c = self.set(&def.node.selection_set.node, depth, lists, intro);
                        self.stack.pop();
                        complexity = complexity.saturating_add(c);
                    }
                }
            }
        }
        complexity
    }
}

/// What `op` costs; `visits` is the walk budget already spent on the document (shared by all
/// its operations, so many operations spreading one bomb cost no more than one).
fn operation_cost(
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    op: &OperationDefinition,
    visits: &mut usize,
) -> Cost {
    let mut walk = Walk {
        fragments,
        stack: vec![],
        visits: *visits,
        cost: Cost::default(),
    };
    walk.cost.complexity = walk.set(&op.selection_set.node, 0, 0, false);
    if walk.visits >= MAX_VISITS {
        // Not walked to the end: at least this costly, and more than any limit allows.
        walk.cost.complexity = walk.cost.complexity.max(MAX_VISITS);
    }
    *visits = walk.visits;
    walk.cost
}

/// The deepest nesting of `{`, `[` and `(`, counted everywhere, strings and comments
/// included: it can only over-count, so no string syntax (block strings with lone quotes,
/// escapes) can hide brackets from it. Stops counting once past `MAX_NESTING`.
pub fn nesting(query: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in query.bytes() {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_NESTING {
                    break;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The errors Appwrite's validation rules report for `doc`, one message each; every
/// operation of the document is measured.
pub fn check(doc: &ExecutableDocument) -> Vec<String> {
    let ops: Vec<&OperationDefinition> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node],
        DocumentOperations::Multiple(ops) => ops.values().map(|op| &op.node).collect(),
    };
    let mut errors = vec![];
    let mut visits = 0;
    for op in ops {
        let cost = operation_cost(&doc.fragments, op, &mut visits);
        if cost.introspection {
            if cost.lists > MAX_INTROSPECTION_LISTS {
                errors.push(format!(
                    "Introspection may nest at most {MAX_INTROSPECTION_LISTS} lists but got {}.",
                    cost.lists
                ));
            }
            if cost.aliased_introspection {
                errors.push("Introspection fields cannot have aliases.".to_owned());
            }
        }
        let (max_depth, max_complexity) = if cost.other_root {
            (MAX_DEPTH, MAX_COMPLEXITY)
        } else {
            (MAX_INTROSPECTION_DEPTH, MAX_INTROSPECTION_COMPLEXITY)
        };
        if cost.depth > max_depth {
            errors.push(format!(
                "Max query depth should be {max_depth} but got {}.",
                cost.depth
            ));
        }
        if cost.complexity > max_complexity {
            errors.push(format!(
                "Max query complexity should be {max_complexity} but got {}.",
                cost.complexity
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn cost(q: &str) -> Cost {
        let doc = parse_query(q).unwrap();
        let op = match &doc.operations {
            DocumentOperations::Single(op) => &op.node,
            DocumentOperations::Multiple(_) => unreachable!(),
        };
        operation_cost(&doc.fragments, op, &mut 0)
    }

    #[test]
    fn depth_counts_fields_with_selections_from_zero_as_webonyx_does() {
        assert_eq!(cost("{ accountGet { _id } }").depth, 0);
        assert_eq!(cost("{ usersList { users { targets { _id } } } }").depth, 2);
        let q = "query { a { ...F } } fragment F on X { b { c { d { e } } } }";
        assert_eq!(cost(q).depth, 3);
        assert_eq!(cost("{ a { ... on X { b { c } } } }").depth, 1);
    }

    #[test]
    fn complexity_is_one_per_field_with_fragments_inlined() {
        assert_eq!(cost("{ accountGet { _id name } }").complexity, 3);
        let q = "{ a: accountGet { ...F } b: accountGet { ...F } } fragment F on User { _id name }";
        assert_eq!(cost(q).complexity, 6);
    }

    #[test]
    fn fragment_bombs_and_cycles_stop_counting() {
        // Each level doubles: 2^30 fields if it were expanded.
        let mut q = String::from("{ accountGet { ...F0 } }");
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on User {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        q.push_str(" fragment F30 on User { _id }");
        assert!(cost(&q).complexity >= MAX_VISITS);
        // Spreads alone, with no field until the end (or none at all), cost their walk too.
        for last in ["fragment F30 on Query { __typename }", ""] {
            let mut q = String::from("{ ...F0 }");
            for i in 0..30 {
                q.push_str(&format!(
                    " fragment F{i} on Query {{ ...F{0} ...F{0} }}",
                    i + 1
                ));
            }
            q.push_str(last);
            let c = cost(&q);
            assert!(c.complexity >= MAX_VISITS, "{last:?}: {c:?}");
        }
        let cyclic =
            "{ accountGet { ...A } } fragment A on User { _id ...B } fragment B on User { ...A }";
        assert_eq!(cost(cyclic).complexity, 2);
    }

    #[test]
    fn introspection_is_told_apart_and_its_lists_and_aliases_counted() {
        let c = cost("{ __schema { types { fields { args { name } } } } }");
        assert!(c.introspection && !c.other_root);
        assert_eq!(c.lists, 3);
        assert!(!c.aliased_introspection);
        let c = cost(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        );
        assert_eq!(c.lists, 4);
        assert!(cost("{ __type(name: \"User\") { a: name b: name } }").aliased_introspection);
        let c = cost("{ __typename accountGet { _id } }");
        assert!(c.other_root && !c.introspection);
        let c = cost(
            "{ accountGet { _id } ...F } fragment F on Query { __schema { t: types { name } } }",
        );
        assert!(c.other_root && c.introspection && c.aliased_introspection);
    }

    #[test]
    fn nesting_counts_every_bracket_so_no_string_can_hide_one() {
        assert_eq!(nesting("{ a(x: [1, [2]]) { b } }"), 4);
        assert_eq!(nesting("{ a(s: \"{{\") }"), 4, "over-counts, never under");
        let deep = format!(
            "{{ a(x: {}1{}) }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(nesting(&deep), MAX_NESTING + 1);
        let hidden = format!(
            "{{ a(s: \"\"\" \" \"\"\", l: {}1{}) }}",
            "[".repeat(3000),
            "]".repeat(3000)
        );
        assert_eq!(
            nesting(&hidden),
            MAX_NESTING + 1,
            "a block string with a lone quote"
        );
    }

    #[test]
    fn many_operations_share_one_budget_and_spread_chains_are_bounded() {
        let mut q = String::new();
        for i in 0..2000 {
            q.push_str(&format!("query q{i} {{ ...F0 }} "));
        }
        for i in 0..30 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{0} ...F{0} }}",
                i + 1
            ));
        }
        let doc = parse_query(&q).unwrap();
        let mut visits = 0;
        let mut refused = 0;
        let DocumentOperations::Multiple(ops) = &doc.operations else {
            unreachable!()
        };
        for op in ops.values() {
            let c = operation_cost(&doc.fragments, &op.node, &mut visits);
            refused += usize::from(c.complexity >= MAX_VISITS);
        }
        assert_eq!(visits, MAX_VISITS, "one budget for the document");
        assert_eq!(refused, 2000);
        // 10,000 links of spreads: no recursion past the bound.
        let mut chain = String::from("{ ...L0 }");
        for i in 0..10_000 {
            chain.push_str(&format!(" fragment L{i} on Query {{ ...L{} }}", i + 1));
        }
        let c = cost(&chain);
        assert!(c.complexity >= MAX_VISITS, "{c:?}");
    }

    #[test]
    fn introspection_rules_hold_beside_other_fields() {
        let doc = parse_query("{ accountGet { _id } t0: __schema { types { name } } }").unwrap();
        assert_eq!(
            check(&doc),
            vec!["Introspection fields cannot have aliases."]
        );
    }

    #[test]
    fn check_words_errors_as_appwrite() {
        let doc = parse_query("{ usersList { users { targets { x { y { _id } } } } } }").unwrap();
        assert_eq!(check(&doc), vec!["Max query depth should be 3 but got 4."]);
        let fields: String = (0..250)
            .map(|i| format!("a{i}: accountGet {{ _id }} "))
            .collect();
        let doc = parse_query(format!("{{ {fields} }}")).unwrap();
        assert_eq!(
            check(&doc),
            vec!["Max query complexity should be 250 but got 500."]
        );
    }
}
