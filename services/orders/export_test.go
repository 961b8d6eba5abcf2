package orders

// SetReconcilePage changes how many orders the reconciler reads at a time,
// until the returned function puts it back.
func SetReconcilePage(n int) (restore func()) {
	old := reconcilePage
	reconcilePage = n
	return func() { reconcilePage = old }
}
