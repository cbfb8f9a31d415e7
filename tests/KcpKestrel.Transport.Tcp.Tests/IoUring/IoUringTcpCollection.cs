namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// The io_uring engine's own cases run alone (xunit runs a collection without parallelization after the others):
/// their descriptor counts must see no other test's sockets, and the EMFILE case lowers the process's limit.
/// </summary>
[CollectionDefinition(nameof(IoUringTcpCollection), DisableParallelization = true)]
public sealed class IoUringTcpCollection;
