// The end-to-end tests move megabytes over loopback on a small shared machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
