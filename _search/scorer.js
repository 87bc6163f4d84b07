// The book's search scorer (Sphinx `html_search_scorer`): Sphinx's defaults, plus one rule.
// A criterion's own index entry (its ID, short name, analyte names, Chinese terms) ranks above
// every other match, so searching "EX24", "haemoglobin" or "血红蛋白" lands on the criterion
// first, before the glossary or the pages that merely mention it.
var Scorer = {
  score: (result) => {
    const [docname, , anchor, , score] = result;
    const criterionEntry = docname === "book/eligibility/criteria" && anchor.startsWith("#index-");
    return criterionEntry ? score + 1000 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
