# Reference values for issue 18: polychoric correlations and thresholds (lavaan::lavCor and
# psych::polychoric), WLSMV CFA (lavaan 0.6-14, ordered =), ordinal alpha, and a common latent
# factor (ULMC) model.
# Run from tests/reference/:  Rscript r/make_ordinal_reference.R
#   (needs lavaan, psych, jsonlite; written with R 4.2.2, lavaan 0.6-14, psych 2.2.9, jsonlite 1.8.4)
# Writes data/bfi.csv (psych::bfi, 2,800 rows: 25 items, gender, education, age),
# data/hs_ordinal.csv (HolzingerSwineford1939 x1..x9 cut into 4 categories at their quartiles,
# plus school) and values/ordinal.json.
suppressPackageStartupMessages({ library(lavaan); library(psych); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")), psych = as.character(packageVersion("psych")))

data(bfi, package = "psych")
write.csv(bfi, "data/bfi.csv", row.names = FALSE, na = "")
items <- colnames(bfi)[1:25]
b <- bfi[items]
bc <- b[complete.cases(b), ]                      # 2,436 complete rows

hs <- read.csv("data/HolzingerSwineford1939.csv")
hso <- data.frame(lapply(hs[paste0("x", 1:9)], function(v) as.integer(cut(v, quantile(v, c(0, .25, .5, .75, 1)), include.lowest = TRUE))))
hso$school <- hs$school
write.csv(hso, "data/hs_ordinal.csv", row.names = FALSE)

## 1. polychoric matrix and thresholds: lavaan (two-step, as its WLSMV uses) and psych
lc <- lavCor(bc, ordered = items, output = "fit")
rho_lav <- lavInspect(lc, "sampstat")$cov
th_lav <- lavInspect(lc, "sampstat")$th
pc <- polychoric(bc)
# an item set with an empty category: A1..A5 where category 6 of A1 never occurs
e <- bc[c("A1", "A2", "A3", "A4", "A5")]
e$A1[e$A1 == 6] <- 5
lce <- lavCor(e, ordered = names(e), output = "fit")
pce <- polychoric(e)

## 2. WLSMV CFA
bfi.model <- paste("agree =~ A1 + A2 + A3 + A4 + A5", "consc =~ C1 + C2 + C3 + C4 + C5", "extra =~ E1 + E2 + E3 + E4 + E5",
                   "neuro =~ N1 + N2 + N3 + N4 + N5", "open =~ O1 + O2 + O3 + O4 + O5", sep = "\n")
HS.model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
keys <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
          "chisq.shift.parameters", "baseline.chisq", "baseline.df", "baseline.chisq.scaled", "cfi", "tli", "cfi.scaled",
          "tli.scaled", "cfi.robust", "tli.robust", "rmsea", "rmsea.scaled", "rmsea.robust", "srmr")
record <- function(fit, call) {
  est <- parameterEstimates(fit, ci = FALSE)
  std <- standardizedSolution(fit, ci = FALSE)
  list(call = call, nobs = lavInspect(fit, "nobs"), fit = as.list(fitMeasures(fit, keys)),
       estimates = list(lhs = est$lhs, op = est$op, rhs = est$rhs, group = if (is.null(est$group)) rep(1L, nrow(est)) else est$group,
                        est = est$est, se = est$se, std_all = std$est.std),
       r2 = as.list(lavInspect(fit, "r2")))
}
t0 <- proc.time()[["elapsed"]]
f_bfi <- cfa(bfi.model, data = bc, ordered = items, estimator = "WLSMV")
t_bfi <- proc.time()[["elapsed"]] - t0
f_hs <- cfa(HS.model, data = hso, ordered = paste0("x", 1:9), estimator = "WLSMV")
f_hs_theta <- cfa(HS.model, data = hso, ordered = paste0("x", 1:9), estimator = "WLSMV", parameterization = "theta")
# structural paths among the factors and a defined indirect effect, ordered indicators
SEM.model <- paste(HS.model, "speed ~ a*visual + b*textual", "textual ~ c*visual", "ind := c*b", sep = "\n")
f_hs_sem <- sem(SEM.model, data = hso, ordered = paste0("x", 1:9), estimator = "WLSMV")

## 3. ordinal alpha (psych::alpha on the polychoric matrix), per bfi scale
ord_alpha <- lapply(list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5), N = paste0("N", 1:5), O = paste0("O", 1:5)),
                    function(s) suppressWarnings(alpha(polychoric(bc[s])$rho, check.keys = TRUE))$total$raw_alpha)
# ordinal omega total: psych::omega(polychoric(x)$rho, nfactors = 1) (flip = TRUE reverses negative items)
ord_omega <- lapply(list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5), N = paste0("N", 1:5), O = paste0("O", 1:5)),
                    function(s) suppressWarnings(omega(polychoric(bc[s])$rho, nfactors = 1, plot = FALSE))$omega.tot)

## 4. common latent factor (ULMC): HS continuous, trait model vs trait + method factor whose
##    loadings are all equal and which is orthogonal to the traits
clf.model <- paste(HS.model, "method =~ m*x1 + m*x2 + m*x3 + m*x4 + m*x5 + m*x6 + m*x7 + m*x8 + m*x9",
                   "method ~~ 0*visual + 0*textual + 0*speed", sep = "\n")
f_trait <- cfa(HS.model, data = hs)
f_clf <- cfa(clf.model, data = hs)
clf <- list(trait = as.list(fitMeasures(f_trait, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))),
            clf = as.list(fitMeasures(f_clf, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))),
            method_loading_std = standardizedSolution(f_clf)[standardizedSolution(f_clf)$lhs == "method" &
                                                              standardizedSolution(f_clf)$op == "=~", "est.std"],
            model = clf.model)

w(list(versions = versions, items = items, n_complete = nrow(bc),
       polychoric = list(lavaan_rho = as.numeric(rho_lav), lavaan_th = as.numeric(th_lav), th_names = names(th_lav),
                         psych_rho = as.numeric(pc$rho), psych_tau = as.numeric(pc$tau), tau_dim = dim(pc$tau)),
       empty_category = list(items = names(e), lavaan_rho = as.numeric(lavInspect(lce, "sampstat")$cov),
                             lavaan_th = as.numeric(lavInspect(lce, "sampstat")$th), th_names = names(lavInspect(lce, "sampstat")$th),
                             psych_rho = as.numeric(pce$rho)),
       gamma_hs = list(note = "lavInspect(f_hs, 'gamma'): NACOV of thresholds then polychorics (lower triangle, by column)",
                       gamma = as.numeric(lavInspect(f_hs, "gamma")), wls_obs = as.numeric(lavInspect(f_hs, "wls.obs"))),
       wlsmv = list(bfi = record(f_bfi, "cfa(bfi.model, data=bfi[complete], ordered=items, estimator='WLSMV')"),
                    hs = record(f_hs, "cfa(HS.model, data=hs_ordinal, ordered=x1..x9, estimator='WLSMV')"),
                    hs_theta = record(f_hs_theta, "... parameterization='theta'"),
                    hs_sem = record(f_hs_sem, "sem(SEM.model, data=hs_ordinal, ordered=x1..x9, estimator='WLSMV')"),
                    models = list(bfi = bfi.model, hs = HS.model, hs_sem = SEM.model), lavaan_seconds_bfi = t_bfi),
       ordinal_alpha = ord_alpha, ordinal_omega = ord_omega, clf = clf), "ordinal.json")
cat("done\n")
