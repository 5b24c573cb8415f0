# Extra reference values for govsurvey's SEM engine and omega.
# Run from tests/reference/:  Rscript r/make_sem_reference.R
# Needs lavaan, psych, GPArotation, jsonlite. Written with R 4.2.2, lavaan 0.6.14, psych 2.2.9, GPArotation 2022.10-2.
suppressPackageStartupMessages({ library(lavaan); library(psych); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                 psych = as.character(packageVersion("psych")), GPArotation = as.character(packageVersion("GPArotation")))
data(PoliticalDemocracy, package = "lavaan")
write.csv(PoliticalDemocracy, "data/PoliticalDemocracy.csv", row.names = FALSE)
pd <- read.csv("data/PoliticalDemocracy.csv")
# lavaan's own example (Bollen 1989), with labels and defined indirect/total effects
model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ g1*ind60
  dem65 ~ g2*ind60 + g3*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  ind_effect := g1*g3
  total_effect := g2 + g1*g3
"
fm <- c("chisq","df","pvalue","cfi","tli","rmsea","rmsea.ci.lower","rmsea.ci.upper","srmr","gfi","agfi","nfi","aic","bic","logl","npar")
est <- function(fit) {
  pe <- parameterEstimates(fit); ss <- standardizedSolution(fit)
  lapply(seq_len(nrow(pe)), function(i) list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i], label = pe$label[i],
         est = pe$est[i], se = pe$se[i], z = pe$z[i], p = pe$pvalue[i],
         std_all = ss$est.std[i]))
}
ml <- sem(model, data = pd)
# lavaan's default nlminb stopping rule leaves y2 ~~ y4 about 1e-4 short of the optimum for this model
# (gradient ~7e-6); a tightly converged fit gives the exact optimum that govsurvey's Fisher scoring reaches.
# (nlminb with rel.tol below 1e-10 reports non-convergence here; optim's BFGS with reltol = 1e-14 converges.)
ml_tight <- sem(model, data = pd, optim.method = "BFGS", control = list(reltol = 1e-14, maxit = 10000))
mlr <- sem(model, data = pd, estimator = "MLR")
hs <- read.csv("data/HolzingerSwineford1939.csv")
X <- hs[, paste0("x", 1:9)]
om3 <- suppressWarnings(psych::omega(X, nfactors = 3, plot = FALSE))
om2 <- suppressWarnings(psych::omega(X[, 1:6], nfactors = 2, plot = FALSE))
# a second-order CFA on HS (lavaan syntax with a higher-order factor)
ho <- cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ng =~ visual + textual + speed", data = hs)
# psych::alpha with missing values: pairwise covariances (its default use = "pairwise")
Xm <- X[, c("x4","x5","x6")]
Xm[seq(3, 301, by = 7), "x4"] <- NA; Xm[seq(5, 301, by = 11), "x5"] <- NA; Xm[seq(2, 301, by = 13), "x6"] <- NA
am <- psych::alpha(Xm)
w(list(versions = versions,
       alpha_pairwise = list(call = "psych::alpha(Xm) with NA at rows seq(3,301,7) of x4, seq(5,301,11) of x5, seq(2,301,13) of x6",
                             raw_alpha = am$total$raw_alpha, std_alpha = am$total$std.alpha, average_r = am$total$average_r,
                             r_drop = as.list(setNames(am$item.stats$r.drop, rownames(am$item.stats))),
                             alpha_if_deleted = as.list(setNames(am$alpha.drop$raw_alpha, rownames(am$alpha.drop)))),
       political_democracy = list(call = "lavaan::sem(model, data=PoliticalDemocracy)", model = model,
                                  fit = as.list(fitMeasures(ml, fm)), estimates = est(ml)),
       political_democracy_tight = list(call = "lavaan::sem(model, data=PoliticalDemocracy, optim.method='BFGS', control=list(reltol=1e-14))",
                                        fit = as.list(fitMeasures(ml_tight, fm)), estimates = est(ml_tight)),
       political_democracy_mlr = list(call = "lavaan::sem(model, data=PoliticalDemocracy, estimator='MLR')",
                                      fit = as.list(fitMeasures(mlr, c("chisq.scaled","chisq.scaling.factor","cfi.robust","tli.robust","rmsea.robust"))),
                                      estimates = est(mlr)),
       omega_hs3 = list(call = "psych::omega(X, nfactors=3)", omega_h = om3$omega_h, omega_tot = om3$omega.tot, alpha = om3$alpha),
       omega_hs2 = list(call = "psych::omega(X[, 1:6], nfactors=2)", omega_h = om2$omega_h, omega_tot = om2$omega.tot),
       second_order = list(call = "lavaan::cfa(HS.model + 'g =~ visual + textual + speed', data=hs)",
                           fit = as.list(fitMeasures(ho, fm)), estimates = est(ho))),
  "sem_extra.json")
cat("done\n")
