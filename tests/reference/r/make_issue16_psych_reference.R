# Reference values for issue 16: psych's pairwise conventions, principal axis run to convergence,
# and the three promax conventions (psych::fa, stats::promax / psych::principal, SPSS).
# Run from tests/reference/:  Rscript r/make_issue16_psych_reference.R   (needs psych, GPArotation, jsonlite)
# Written with R 4.2.2 and psych 2.2.9 as Debian 12 installs them (r-cran-psych 2.2.9: the same psych
# version as values/hs_items.json).
suppressPackageStartupMessages({ library(psych); library(jsonlite) })
w <- function(x, f) write_json(x, file.path("values", f), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                 GPArotation = as.character(packageVersion("GPArotation")))
hs <- read.csv("data/HolzingerSwineford1939.csv")
X <- hs[, paste0("x", 1:9)]
## missing values at fixed rows (1-based R rows); the tests blank the same cells
na_rows <- list(x1 = seq(3, 301, by = 7), x4 = seq(5, 301, by = 11), x6 = seq(2, 301, by = 13),
                x8 = seq(7, 301, by = 17), x9 = seq(1, 301, by = 19))
Xm <- X
for (v in names(na_rows)) Xm[na_rows[[v]], v] <- NA
cols <- function(L) { L <- unclass(L); lapply(seq_len(ncol(L)), function(j) as.list(setNames(L[, j], rownames(L)))) }
efa <- function(f, call) list(call = call, loadings = cols(f$loadings), communalities = as.list(f$communality),
                              Phi = if (is.null(f$Phi)) NULL else unname(f$Phi), n_obs = f$n.obs)

## 1. pairwise: every psych function below computes cor(x, use = "pairwise") (alpha and splitHalf:
##    cov(x, use = "pairwise") and cov2cor), and takes n = nrow(x) = 301 as its n.obs
k <- KMO(Xm)
bt <- suppressMessages(cortest.bartlett(Xm))          # raw data: n <- dim(R)[1], R <- cor(R, use = "pairwise")
f_mr <- suppressWarnings(fa(Xm, 3, fm = "minres", rotate = "oblimin"))
f_pa <- suppressWarnings(fa(Xm, 3, fm = "pa", rotate = "promax"))
om <- suppressWarnings(omega(Xm, 3, plot = FALSE))
tx <- c("x4", "x5", "x6")
a3 <- suppressWarnings(alpha(Xm[, tx]))
om1 <- suppressWarnings(omega(Xm[, tx], nfactors = 1, plot = FALSE))
sh <- splitHalf(Xm[, tx])
a9 <- suppressWarnings(alpha(Xm))
pairwise <- list(
  data = "HolzingerSwineford1939 x1..x9 with NA at R rows seq(3,301,7) of x1, seq(5,301,11) of x4, seq(2,301,13) of x6, seq(7,301,17) of x8, seq(1,301,19) of x9",
  n_rows = nrow(Xm), n_complete = sum(complete.cases(Xm)), n_pair_min = min(pairwiseCount(Xm)),
  cor_pairwise = unname(cor(Xm, use = "pairwise")),
  kmo = list(call = "psych::KMO(Xm)", overall = k$MSA, per_item = as.list(k$MSAi)),
  bartlett = list(call = "psych::cortest.bartlett(Xm)  # n = nrow(Xm)", chisq = bt$chisq, df = bt$df, p_value = bt$p.value, n = nrow(Xm)),
  efa_minres_oblimin = efa(f_mr, "psych::fa(Xm, 3, fm='minres', rotate='oblimin')"),
  efa_pa_promax = efa(f_pa, "psych::fa(Xm, 3, fm='pa', rotate='promax')"),
  omega3 = list(call = "psych::omega(Xm, 3)", omega_h = om$omega_h, omega_tot = om$omega.tot, alpha = om$alpha),
  alpha_textual = list(call = "psych::alpha(Xm[, c('x4','x5','x6')])", raw_alpha = a3$total$raw_alpha, std_alpha = a3$total$std.alpha,
                       G6 = a3$total$`G6(smc)`, average_r = a3$total$average_r,
                       feldt = unname(c(a3$feldt$lower.ci, a3$feldt$upper.ci)), feldt_n = nrow(Xm),
                       omega_total_1f = om1$omega.tot, omega_call = "psych::omega(Xm[, tx], nfactors=1)",
                       split_half_max = sh$maxrb),
  alpha_all9 = list(call = "psych::alpha(Xm)", raw_alpha = a9$total$raw_alpha, feldt = unname(c(a9$feldt$lower.ci, a9$feldt$upper.ci))))

## 2. principal axis run to convergence (min.err = 1e-10; psych's default 0.001 stops after a few iterations)
pa_conv <- fa(X, 3, fm = "pa", rotate = "none", min.err = 1e-10, max.iter = 1000)
pa_conv_pro <- fa(X, 3, fm = "pa", rotate = "promax", min.err = 1e-10, max.iter = 1000)
pa_conv1 <- fa(X, 1, fm = "pa", rotate = "none", min.err = 1e-10, max.iter = 1000)
pa_default <- fa(X, 3, fm = "pa", rotate = "none")
pa <- list(none = efa(pa_conv, "psych::fa(X, 3, fm='pa', rotate='none', min.err=1e-10, max.iter=1000)"),
           promax = efa(pa_conv_pro, "psych::fa(X, 3, fm='pa', rotate='promax', min.err=1e-10, max.iter=1000)"),
           one = efa(pa_conv1, "psych::fa(X, 1, fm='pa', rotate='none', min.err=1e-10, max.iter=1000)"),
           default_none = efa(pa_default, "psych::fa(X, 3, fm='pa', rotate='none')  # min.err=0.001, max.iter=50"))

## 3. promax conventions on three principal components of X (complete data)
L <- unclass(principal(X, 3, rotate = "none")$loadings)
## SPSS FACTOR (Algorithms manual, as transcribed by Grieder & Steiner 2022, EFAtools::PROMAX(type="SPSS")):
## Kaiser-normalised varimax, target from row-normalised varimax loadings, least squares on the varimax loadings
spss_promax <- function(L, k = 4) {
  AV <- stats::varimax(L, eps = 1e-10); A <- AV$loadings; h <- sqrt(rowSums(A^2))
  P <- abs(A / h)^(k + 1) * (h / A)
  U <- lm.fit(A, P)$coefficients; U <- U %*% diag(sqrt(diag(solve(t(U) %*% U))))
  Ui <- solve(AV$rotmat %*% U)
  list(loadings = A %*% U, Phi = Ui %*% t(Ui))
}
pc_stats <- principal(X, 3, rotate = "promax")
pc_kaiser <- kaiser(L, rotate = "Promax")
pc_spss <- spss_promax(L)
rownames(pc_spss$loadings) <- rownames(L)
promax <- list(
  unrotated = list(call = "psych::principal(X, 3, rotate='none')", loadings = cols(L)),
  stats = list(call = "psych::principal(X, 3, rotate='promax')  # stats::promax; Phi = cov2cor(solve(rotmat) %*% t(solve(rotmat)))",
               loadings = cols(pc_stats$loadings), Phi = unname(pc_stats$Phi)),
  kaiser = list(call = "psych::kaiser(principal(X, 3, rotate='none'), rotate='Promax')  # what psych::fa(rotate='promax') does",
                loadings = cols(pc_kaiser$loadings), Phi = unname(pc_kaiser$Phi)),
  spss = list(call = "spss_promax(unrotated loadings), see this script", loadings = cols(pc_spss$loadings), Phi = unname(pc_spss$Phi)))

w(list(versions = versions, pairwise = pairwise, pa_converged = pa, promax = promax), "issue16_psych.json")
cat("done\n")
