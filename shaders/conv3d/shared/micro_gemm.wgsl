    // The micro-GEMM of the shared-memory tiled kernels (tiled.wgsl, wgrad_tiled.wgsl): this
    // invocation's RM x RN register block accumulates the product of the staged [TK][TM] and [TK][TN]
    // slabs, rows ty + THREADS_M * i and columns tx + THREADS_N * j.
    for (var kk = 0u; kk < TK; kk++) {
      var av: array<f32, RM>;
      var bv: array<f32, RN>;
      for (var i = 0u; i < RM; i++) { av[i] = a_tile[kk * TM + ty + THREADS_M * i]; }
      for (var j = 0u; j < RN; j++) { bv[j] = b_tile[kk * TN + tx + THREADS_N * j]; }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) {
          acc[i * RN + j] = fma(av[i], bv[j], acc[i * RN + j]);
        }
      }
    }
