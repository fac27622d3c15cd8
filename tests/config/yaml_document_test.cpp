// The config's YAML tree: one pass of libyaml's event parser, aliases shared, hashes that ignore
// layout, and the walk that finds a field path's position.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "config/yaml_document.hpp"
#include "config/yaml_reader.hpp"

namespace vane::config::test {
namespace {

TEST(YamlDocument, KeepsKindsTextPlainnessAndPositions) {
  const YamlDocument doc("a: 1\nb: \"2\"\nc: [x, ~]\nd:\n");
  ASSERT_FALSE(doc.error());
  const YamlNode& root = doc.root();
  ASSERT_TRUE(root.is_map());
  ASSERT_EQ(root.children.size(), 8u);
  const YamlNode* a = root.find("a");
  ASSERT_TRUE(a && a->is_scalar());
  EXPECT_EQ(a->scalar, "1");
  EXPECT_TRUE(a->plain);
  EXPECT_EQ(a->mark.line, 1);
  EXPECT_EQ(a->mark.column, 4);
  EXPECT_FALSE(root.find("b")->plain);  // quoted: a string, never a number
  const YamlNode* c = root.find("c");
  ASSERT_TRUE(c->is_sequence());
  ASSERT_EQ(c->children.size(), 2u);
  EXPECT_TRUE(c->children[1]->is_null());
  EXPECT_TRUE(root.find("d")->is_null());
  EXPECT_EQ(root.find("e"), nullptr);
}

TEST(YamlDocument, AnAliasIsTheNodeItNames) {
  const YamlDocument doc("base: &b {x: 1}\ncopy: *b\n");
  ASSERT_FALSE(doc.error());
  EXPECT_EQ(doc.root().find("base"), doc.root().find("copy"));
}

TEST(YamlDocument, NestedAliasesStayLinear) {
  // Nine levels of ten aliases each name 10^9 leaves; shared, they are a few dozen nodes.
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  const YamlDocument doc(text);
  ASSERT_FALSE(doc.error());
  const LoadResult loaded = load_string(text, "bomb.yaml");
  EXPECT_FALSE(loaded.errors.empty());  // unknown keys, reported without walking the leaves
}

TEST(YamlDocument, ANodeCannotContainItself) {
  const YamlDocument doc("a: &a [1, *a]\n");
  ASSERT_TRUE(doc.error());
  EXPECT_EQ(doc.error()->mark.line, 1);
  EXPECT_EQ(doc.root().kind, YamlNode::Kind::Null);
}

TEST(YamlDocument, AnAliasNamesTheLatestNodeOfItsAnchorAndAnUnknownOneIsAnError) {
  const YamlDocument doc("a: &x 1\nb: &x 2\nc: *x\n");
  ASSERT_FALSE(doc.error());
  EXPECT_EQ(doc.root().find("c"), doc.root().find("b"));
  // YAML: the most recent preceding node of the name, so the inner one, whose anchor comes later.
  const YamlDocument nested("a: &x [&x 1, 2]\nb: *x\n");
  ASSERT_FALSE(nested.error());
  EXPECT_EQ(nested.root().find("b"), nested.root().find("a")->children[0]);
  const YamlDocument unknown("a: 1\nb: *nope\n");
  ASSERT_TRUE(unknown.error());
  EXPECT_EQ(unknown.error()->mark.line, 2);
  EXPECT_EQ(unknown.error()->message, "an alias to an unknown anchor");
}

TEST(YamlDocument, NullIsAnEmptyOrTildeOrNullPlainScalarButNotAQuotedOne) {
  const YamlDocument doc("a: ~\nb: null\nc: NULL\nd: \"null\"\ne: !!str null\n");
  ASSERT_FALSE(doc.error());
  for (const char* key : {"a", "b", "c"}) EXPECT_TRUE(doc.root().find(key)->is_null()) << key;
  for (const char* key : {"d", "e"}) {
    const YamlNode* n = doc.root().find(key);
    ASSERT_TRUE(n->is_scalar()) << key;
    EXPECT_EQ(n->scalar, "null");
    EXPECT_FALSE(n->plain);
  }
}

TEST(YamlDocument, LaterDocumentsAreNotedWhereTheyStart) {
  const YamlDocument doc("a: 1\n---\nb: 2\n---\n- 3\n");
  ASSERT_FALSE(doc.error());
  EXPECT_TRUE(doc.root().find("a"));
  ASSERT_EQ(doc.extra_documents().size(), 2u);
  EXPECT_EQ(doc.extra_documents()[0].line, 3);
  EXPECT_EQ(doc.extra_documents()[1].line, 5);
}

TEST(YamlDocument, ATokenWhereNoNodeMayStartIsASyntaxErrorNotAnEndlessLoop) {
  for (const char* text : {",", "a: 1\n,\n", "- x\n, y\n"}) {
    const YamlDocument doc(text);
    EXPECT_TRUE(doc.error()) << text;
  }
}

TEST(YamlDocument, HashesIgnoreLayoutAndCommentsButNotContent) {
  const YamlDocument block("# routes\na:\n  - x: 1\n    y: [2, 3]\n");
  const YamlDocument flow("a: [{x: 1, y: [2, 3]}]  # the same\n");
  const YamlDocument quoted("a: [{x: \"1\", y: [2, 3]}]\n");
  const YamlDocument reordered("a: [{y: [2, 3], x: 1}]\n");
  EXPECT_EQ(block.root().hash, flow.root().hash);
  EXPECT_NE(block.root().hash, quoted.root().hash);
  EXPECT_NE(block.root().hash, reordered.root().hash);
}

TEST(YamlReader, FindsAFieldPathsPositionByWalkingTheDocument) {
  const YamlDocument doc(
      "routes:\n"
      "  - name: a\n"
      "    match: {host: a.test}\n"
      "  - name: b\n"
      "    headers:\n"
      "      x.y: 1\n"
      "      x: 2\n"
      "    empty:\n");
  ASSERT_FALSE(doc.error());
  const ExternalChecks checks;
  const Reader reader("f.yaml", checks, doc.root());
  const Mark none{99, 99};
  const auto at = [&](std::string_view path) {
    const Mark m = reader.mark_of(path, none);
    return std::to_string(m.line) + ":" + std::to_string(m.column);
  };
  EXPECT_EQ(at("routes[0].match.host"), "3:19");
  EXPECT_EQ(at("routes[1]"), "4:5");
  EXPECT_EQ(at("routes[1].headers.x.y"), "6:12");  // the longest key that fits
  EXPECT_EQ(at("routes[1].headers.x"), "7:10");
  EXPECT_EQ(at("routes[1].empty"), "8:5");  // an empty value: its key's position
  EXPECT_EQ(at("routes[2]"), "99:99");
  EXPECT_EQ(at("routes[0].nothing"), "99:99");
  EXPECT_EQ(at("routes.name"), "99:99");
  EXPECT_EQ(at("routes[x]"), "99:99");
}

}  // namespace
}  // namespace vane::config::test
