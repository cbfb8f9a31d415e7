using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace KcpKestrel.Cli.Serve;

/// <summary>How serve's connection apps hear Kestrel ask them to close (the host is stopping).</summary>
internal static class CloseRequests
{
    /// <summary>
    /// When Kestrel requests the close (<see cref="IConnectionLifetimeNotificationFeature.ConnectionClosedRequested"/>,
    /// which it fires for every connection as it stops), the app's pending or next read of
    /// <paramref name="input"/> returns at once, canceled, with whatever has arrived: the app handles that, ends
    /// its side, and the transport closes gracefully (KCP: drains what is unacknowledged, then sends its close
    /// signal, so the peer reads end-of-stream rather than a reset or a timeout).
    /// </summary>
    /// <returns>The registration to dispose once the app is done; default when the connection has no such feature.</returns>
    public static CancellationTokenRegistration EndReadsOnCloseRequest(ConnectionContext connection, PipeReader input) =>
        connection.Features.Get<IConnectionLifetimeNotificationFeature>() is { } lifetime
            ? lifetime.ConnectionClosedRequested.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), input)
            : default;
}
