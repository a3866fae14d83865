// The page Gatsby makes for every markdown post of a site, for tests/test_urls_differential.py.
//
// stdin: a JSON list of [site folder, site URL or null]; a site URL stands for siteUrl (as
// syncd's [site] url does). stdout: a JSON object, one entry per folder:
// {"posts": [{"source", "slug", "path", "url", "draft", "published", "date"}]} or
// {"error": "..."}. Nothing here reimplements Gatsby:
// - the site's own gatsby-config.js is loaded with require(), as Gatsby loads it;
// - gatsby-source-filesystem's sourceNodes finds the files (its chokidar walk and ignore
//   list) and makes the File nodes;
// - a markdown file is one gatsby-transformer-remark takes (mime type text/markdown or
//   text/x-markdown) or gatsby-plugin-mdx takes (extension .mdx); its front matter is read
//   with gray-matter, as both plugins do;
// - the site's own gatsby-node.js onCreateNode gives the node its `slug` field (with
//   createFilePath from gatsby-source-filesystem), which the site uses as the page path;
// - createPage's trailing-slash rule is gatsby-page-utils' applyTrailingSlashOption, with
//   gatsby-config's trailingSlash (Gatsby 5's default: "always");
// - the URL is siteUrl with the page path set as the URL's pathname (WHATWG encoding, by
//   Node's URL), after escaping "%", "\", tab and newlines, which are part of the name.
// Run with NODE_PATH pointing at this folder's node_modules, so a site's
// require("gatsby-source-filesystem") finds it.
"use strict";

const fs = require("fs");
const Module = require("module");
const path = require("path");

// gatsby-source-filesystem's gatsby-node.js loads its GraphQL field definitions from the
// `gatsby` package, which is not installed here (and not used to find or name files).
const load = Module._load;
Module._load = function loadWithoutGatsby(request, ...rest) {
  return request === "gatsby/graphql" ? {} : load.call(this, request, ...rest);
};
const matter = require("gray-matter");
const { applyTrailingSlashOption } = require("gatsby-page-utils");
const filesystem = require("gatsby-source-filesystem/gatsby-node");

async function sourceFiles(options) {
  const nodes = [];
  const api = {
    actions: { createNode: (node) => nodes.push(node), deleteNode: () => {} },
    getNode: () => undefined,
    createNodeId: (value) => `file:${value}`,
    reporter: {
      panic: (message) => { throw new Error(String(message).trim()); },
      info: () => {},
      warn: () => {},
      error: (error) => { throw error; },
      setErrorMap: () => {},
    },
    cache: null,
    emitter: { on: () => {} },
  };
  await filesystem.sourceNodes(api, { ...options });
  return nodes.filter((node) => node.internal.type === "File");
}

function isPost(file) {
  const type = file.internal.mediaType;
  return type === "text/markdown" || type === "text/x-markdown" || file.ext === ".mdx";
}

function canonical(siteUrl, pagePath) {
  const url = new URL(siteUrl);
  const prefix = url.pathname.replace(/\/$/, "");
  url.pathname = prefix + pagePath.replace(/[%\\\t\n\r]/g, (ch) =>
    "%" + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
  return url.href;
}

async function site(root, siteUrl) {
  process.chdir(root);
  const config = require(path.join(root, "gatsby-config.js"));
  const nodeFile = path.join(root, "gatsby-node.js");
  const gatsbyNode = fs.existsSync(nodeFile) ? require(nodeFile) : {};
  const sources = (config.plugins || [])
    .filter((plugin) => (plugin.resolve || plugin) === "gatsby-source-filesystem")
    .map((plugin) => plugin.options);
  const files = [];
  for (const options of sources) files.push(...(await sourceFiles(options)));
  const byId = new Map(files.map((file) => [file.id, file]));
  const posts = [];
  for (const file of files.filter(isPost)) {
    const parsed = matter(fs.readFileSync(file.absolutePath, "utf8"));
    const node = {
      id: `post:${file.id}`,
      parent: file.id,
      internal: { type: file.ext === ".mdx" ? "Mdx" : "MarkdownRemark" },
      frontmatter: parsed.data,
      fields: {},
    };
    gatsbyNode.onCreateNode({
      node,
      getNode: (id) => byId.get(id),
      actions: { createNodeField: ({ node: target, name, value }) => { target.fields[name] = value; } },
    });
    let pagePath = applyTrailingSlashOption(node.fields.slug, config.trailingSlash || "always");
    if (!pagePath.startsWith("/")) pagePath = `/${pagePath}`;
    const date = parsed.data.date;
    posts.push({
      source: path.relative(root, file.absolutePath),
      slug: node.fields.slug,
      path: pagePath,
      url: canonical(siteUrl || config.siteMetadata.siteUrl, pagePath),
      draft: parsed.data.draft === true,
      published: parsed.data.published !== false,
      date: date instanceof Date ? date.toISOString() : date === undefined ? null : String(date),
    });
  }
  return { posts };
}

async function main() {
  const sites = JSON.parse(fs.readFileSync(0, "utf8"));
  const answers = {};
  for (const [root, siteUrl] of sites) {
    try {
      answers[root] = await site(root, siteUrl);
    } catch (error) {
      answers[root] = { error: String(error && error.stack ? error.stack : error) };
    }
  }
  fs.writeSync(1, JSON.stringify(answers));  // synchronously: exit() would cut a pipe short
  process.exit(0);  // the chokidar watchers would keep the process alive
}

main();
