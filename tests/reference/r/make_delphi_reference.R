# Reference values for govsurvey.evaluation.delphi: Kendall's W with the tie correction and the
# per-indicator statistics of a Delphi round.
# Run from the reference/ folder:  Rscript r/make_delphi_reference.R   (needs jsonlite and vegan)
# Writes data/delphi_small.csv, data/delphi_sim.csv and values/delphi.json.
#
# irr::kendall(ratings, correct = TRUE) is the usual R call, but irr is not installed here, so W is
# computed twice, independently: (1) the textbook formula written out in base R (Siegel & Castellan
# 1988, sec. 9.4), and (2) vegan::kendall.global, which takes objects (indicators) as rows and judges
# (experts) as columns and corrects for ties the same way (Legendre 2005).
suppressPackageStartupMessages({ library(jsonlite); library(vegan) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")

## (a) a small example with ties: 6 experts x 5 indicators on a 1-5 importance scale
small <- data.frame(
  C1 = c(5, 4, 5, 4, 5, 4),
  C2 = c(4, 4, 5, 3, 4, 4),
  C3 = c(3, 3, 4, 3, 4, 2),
  C4 = c(5, 3, 4, 4, 5, 3),
  C5 = c(2, 3, 3, 2, 4, 3),
  row.names = paste0("E", 1:6))

## (b) a simulated round: 15 experts x 20 indicators, integer ratings 1-5 (many ties)
set.seed(20240521)
mu <- runif(20, 2.4, 4.8)
sim <- t(sapply(1:15, function(e) pmin(5, pmax(1, round(mu + rnorm(20, sd = 0.8))))))
sim <- as.data.frame(sim, row.names = sprintf("E%02d", 1:15))
names(sim) <- sprintf("I%02d", 1:20)

write.csv(small, "data/delphi_small.csv")
write.csv(sim, "data/delphi_sim.csv")

kendall_w <- function(X) {          # X: experts (rows) x indicators (columns), complete
  X <- as.matrix(X); m <- nrow(X); n <- ncol(X)
  R <- t(apply(X, 1, rank))         # ranks within each expert, ties.method = "average"
  Rs <- colSums(R); S <- sum((Rs - mean(Rs))^2)
  Tj <- apply(X, 1, function(x) { t <- table(x); sum(t^3 - t) })
  W <- 12 * S / (m^2 * (n^3 - n) - m * sum(Tj))
  chi2 <- m * (n - 1) * W
  kg <- vegan::kendall.global(t(X), nperm = 99)$Concordance_analysis
  list(m = m, n = n, S = S, T = sum(Tj), w = W, w_uncorrected = 12 * S / (m^2 * (n^3 - n)),
       chi2 = chi2, df = n - 1, p = pchisq(chi2, n - 1, lower.tail = FALSE),
       w_vegan = unname(kg["W", 1]), chi2_vegan = unname(kg["Chi2", 1]))
}
indicators <- function(X, top = 5) {
  list(mean = as.list(colMeans(X)), sd = as.list(sapply(X, sd)),     # sd(): n - 1 denominator
       cv = as.list(sapply(X, sd) / colMeans(X)), full_score = as.list(colMeans(X == top)))
}
set.seed(1)   # vegan's permutation test is not used, but make the run reproducible
w(list(versions = list(R = R.version.string, vegan = as.character(packageVersion("vegan"))),
       note = "W: base-R formula with tie correction; w_vegan: vegan::kendall.global(t(X)); irr not installed",
       small = c(list(data = "data/delphi_small.csv"), kendall_w(small), list(indicators = indicators(small))),
       sim = c(list(data = "data/delphi_sim.csv", seed = 20240521), kendall_w(sim), list(indicators = indicators(sim)))),
  "delphi.json")
