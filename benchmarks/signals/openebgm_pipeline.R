# openEBGM's whole pipeline on a case-level CSV (id, drug, event), timed by the caller as a process:
#   Rscript openebgm_pipeline.R INPUT.csv OUTPUT.csv [RLIB] > hyperparameters (one line)
# The same statistical work as `hygeia signals score`: processRaw (N, E, RR, PRR, ROR), the exact
# likelihood up to max_pts = 20,000 pairs and autoSquash above, autoHyper with the vignette's five
# starts, Qn, ebgm and quantBisect (5%, 95%) at digits = 2, then the table written as CSV.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 2) .libPaths(c(args[3], .libPaths()))
suppressPackageStartupMessages({ library(openEBGM); library(data.table) })
cases <- fread(args[1], colClasses = "character")
setnames(cases, c("drug", "event"), c("var1", "var2"))
proc <- processRaw(as.data.frame(cases[, .(id, var1, var2)]))
squash <- nrow(proc) > 20000
data <- if (squash) autoSquash(proc) else proc
theta_init <- data.frame(alpha1 = c(0.2, 0.1, 0.3, 0.5, 0.2), beta1 = c(0.1, 0.1, 0.5, 0.3, 0.2),
                         alpha2 = c(2, 10, 6, 12, 5), beta2 = c(4, 10, 6, 12, 5),
                         p = c(1/3, 0.2, 0.5, 0.8, 0.4))
fit <- suppressWarnings(autoHyper(data, theta_init = theta_init, squashed = squash))
theta <- fit$estimates
qn <- Qn(theta, N = proc$N, E = proc$E)
proc$EBGM <- ebgm(theta, N = proc$N, E = proc$E, qn = qn)
proc$QUANT_05 <- quantBisect(5, theta_hat = theta, N = proc$N, E = proc$E, qn = qn)
proc$QUANT_95 <- quantBisect(95, theta_hat = theta, N = proc$N, E = proc$E, qn = qn)
fwrite(proc, args[2])
cat(sprintf("%.10f", theta), fit$method, fit$num_close, squash, "\n")
