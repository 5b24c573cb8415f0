# Reference values for full-information maximum likelihood (issue 16): lavaan's missing = "ml"
# with estimator ML and MLR, on HolzingerSwineford1939 and PoliticalDemocracy with planted
# MCAR and MAR missingness, and Little's (1988) MCAR test with the EM estimates.
# Run from tests/reference/:  Rscript r/make_fiml_reference.R
#   (needs lavaan and jsonlite; written with R 4.2.2, lavaan 0.6-14, jsonlite 1.8.4)
# Writes data/hs_mcar.csv, data/hs_mar.csv, data/poldem_mcar.csv, data/poldem_mar.csv
# (the data with the planted missing values, NA as empty cells) and values/fiml.json.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")))

hs <- read.csv("data/HolzingerSwineford1939.csv")
pd <- read.csv("data/PoliticalDemocracy.csv")

## Planted missingness (fixed seeds, so the CSVs are reproducible)
set.seed(20161)
hs_mcar <- hs
for (v in paste0("x", 1:9)) hs_mcar[runif(nrow(hs)) < 0.10, v] <- NA
# MAR: x1 and ageyr always observed; the chance that x4..x9 are missing rises with x1 (logistic),
# x2 and x3 missing completely at random (5 %)
set.seed(20162)
hs_mar <- hs
z <- as.numeric(scale(hs$x1))
for (v in paste0("x", 4:9)) hs_mar[runif(nrow(hs)) < plogis(-2.2 + 1.2 * z), v] <- NA
for (v in c("x2", "x3")) hs_mar[runif(nrow(hs)) < 0.05, v] <- NA
set.seed(20163)
pd_mcar <- pd
for (v in names(pd)) pd_mcar[runif(nrow(pd)) < 0.08, v] <- NA
# MAR: x1 (1960 industrialisation) always observed; y5..y8 (1965) missing more often in
# less industrialised countries
set.seed(20164)
pd_mar <- pd
zx <- as.numeric(scale(pd$x1))
for (v in paste0("y", 5:8)) pd_mar[runif(nrow(pd)) < plogis(-1.8 - 1.0 * zx), v] <- NA
for (v in c("y1", "y2", "x2")) pd_mar[runif(nrow(pd)) < 0.05, v] <- NA
write.csv(hs_mcar, "data/hs_mcar.csv", row.names = FALSE, na = "")
write.csv(hs_mar, "data/hs_mar.csv", row.names = FALSE, na = "")
write.csv(pd_mcar, "data/poldem_mcar.csv", row.names = FALSE, na = "")
write.csv(pd_mar, "data/poldem_mar.csv", row.names = FALSE, na = "")

HS.model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
PD.model <- paste("ind60 =~ x1 + x2 + x3", "dem60 =~ y1 + y2 + y3 + y4", "dem65 =~ y5 + y6 + y7 + y8",
                  "dem60 ~ a*ind60", "dem65 ~ c*ind60 + b*dem60",
                  "y1 ~~ y5", "y2 ~~ y4 + y6", "y3 ~~ y7", "y4 ~~ y8", "y6 ~~ y8",
                  "total := c + a*b", sep = "\n")
# a path model with an observed exogenous covariate (fixed.x): x1 has missing values under MCAR,
# and lavaan deletes those cases (fixed.x = TRUE) with a warning
PATH.model <- "x4 ~ a*x1\nx7 ~ b*x4 + x2\nind := a*b"

keys <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "nfi",
          "logl", "unrestricted.logl", "aic", "bic", "ntotal", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
          "srmr", "srmr_bentler", "gfi", "agfi")
robust_keys <- c("chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
                 "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
                 "rmsea.scaled", "rmsea.robust")
record <- function(fit, call) {
  est <- parameterEstimates(fit, ci = FALSE)
  std <- standardizedSolution(fit, ci = FALSE)
  # under missing = "ml" lavaan reports robust CFI/TLI/RMSEA also for ML (FIML-corrected, V6)
  k <- if (lavInspect(fit, "options")$estimator == "ML" && lavInspect(fit, "options")$test != "standard")
    c(keys, robust_keys) else c(keys, "cfi.robust", "tli.robust", "rmsea.robust")
  fm <- fitMeasures(fit, k)
  grp <- if (is.null(est$group)) rep(1L, nrow(est)) else est$group
  list(call = call, nobs = lavInspect(fit, "nobs"), norig = lavInspect(fit, "norig"),
       information = lavInspect(fit, "options")$information,
       fit = as.list(fm),
       estimates = list(lhs = est$lhs, op = est$op, rhs = est$rhs, group = grp, est = est$est, se = est$se,
                        z = est$z, pvalue = est$pvalue, std_all = std$est.std, std_se = std$se))
}
cfa_fit <- function(d, estimator, ...) cfa(HS.model, data = d, missing = "ml", estimator = estimator, ...)

fits <- list(
  hs_mcar_ml = record(cfa_fit(hs_mcar, "ML"), "cfa(HS.model, data=hs_mcar, missing='ml')"),
  hs_mcar_mlr = record(cfa_fit(hs_mcar, "MLR"), "cfa(HS.model, data=hs_mcar, missing='ml', estimator='MLR')"),
  hs_mar_ml = record(cfa_fit(hs_mar, "ML"), "cfa(HS.model, data=hs_mar, missing='ml')"),
  hs_mar_mlr = record(cfa_fit(hs_mar, "MLR"), "cfa(HS.model, data=hs_mar, missing='ml', estimator='MLR')"),
  hs_mar_groups_metric = record(cfa_fit(hs_mar, "ML", group = "school", group.equal = "loadings"),
                                "cfa(HS.model, data=hs_mar, missing='ml', group='school', group.equal='loadings')"),
  hs_mar_groups_mlr = record(cfa_fit(hs_mar, "MLR", group = "school"),
                             "cfa(HS.model, data=hs_mar, missing='ml', estimator='MLR', group='school')"),
  poldem_mcar_ml = record(sem(PD.model, data = pd_mcar, missing = "ml"), "sem(PD.model, data=pd_mcar, missing='ml')"),
  poldem_mar_ml = record(sem(PD.model, data = pd_mar, missing = "ml"), "sem(PD.model, data=pd_mar, missing='ml')"),
  poldem_mar_mlr = record(sem(PD.model, data = pd_mar, missing = "ml", estimator = "MLR"),
                          "sem(PD.model, data=pd_mar, missing='ml', estimator='MLR')"),
  path_mcar_ml = record(suppressWarnings(sem(PATH.model, data = hs_mcar, missing = "ml")),
                        "sem(PATH.model, data=hs_mcar, missing='ml')  # fixed.x: cases missing x1 deleted"),
  path_mcar_mlr = record(suppressWarnings(sem(PATH.model, data = hs_mcar, missing = "ml", estimator = "MLR")),
                         "sem(PATH.model, data=hs_mcar, missing='ml', estimator='MLR')")
)

## Measurement invariance under FIML (configural, metric, scalar; ML), the fit measures of each
inv <- lapply(list(configural = "", metric = "loadings", scalar = c("loadings", "intercepts")),
              function(eq) as.list(fitMeasures(cfa_fit(hs_mar, "ML", group = "school", group.equal = eq),
                                               c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))))

## Little's (1988) MCAR test, written out from the paper: the EM (ML) estimates mu, Sigma of all
## cases; d2 = sum over missing-data patterns of n_j (xbar_j - mu_j)' Sigma_jj^-1 (xbar_j - mu_j)
## on sum_j p_j - p degrees of freedom (p_j: observed variables of pattern j). The EM estimates
## are lavaan's (lav_mvnorm_missing_h1_estimate_moments, tightened to 1e-12); naniar::mcar_test
## and BaylorEdPsych::LittleMCAR use the same statistic with norm's EM.
little <- function(d) {
  y <- as.matrix(d)
  em <- lavaan:::lav_mvnorm_missing_h1_estimate_moments(Y = y, max.iter = 10000L, tol = 1e-12)
  mu <- as.numeric(em$Mu); S <- em$Sigma
  key <- apply(!is.na(y), 1, function(r) paste(as.integer(r), collapse = ""))
  d2 <- 0; df <- 0; pats <- list()
  for (k in unique(key)) {
    rows <- which(key == k); o <- which(!is.na(y[rows[1], ]))
    if (length(o) == 0) next
    xb <- colMeans(y[rows, o, drop = FALSE])
    dev <- xb - mu[o]
    d2 <- d2 + length(rows) * drop(t(dev) %*% solve(S[o, o, drop = FALSE], dev))
    df <- df + length(o)
    pats[[k]] <- length(rows)
  }
  df <- df - ncol(y)
  list(statistic = d2, df = df, p = pchisq(d2, df, lower.tail = FALSE), n_patterns = length(pats),
       mu = mu, sigma = as.numeric(S), loglik = em$loglik)   # (loglik: lavaan's, for reference)
}
mcar <- list(hs_mcar = little(hs_mcar[paste0("x", 1:9)]), hs_mar = little(hs_mar[paste0("x", 1:9)]),
             poldem_mcar = little(pd_mcar), poldem_mar = little(pd_mar))

w(list(versions = versions, models = list(hs = HS.model, poldem = PD.model, path = PATH.model),
       fits = fits, invariance_hs_mar = inv, little = mcar), "fiml.json")
cat("done\n")
