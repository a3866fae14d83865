module.exports = {
  siteMetadata: { title: "Corpus on Gatsby", siteUrl: "https://gatsby.corpus.example" },
};
