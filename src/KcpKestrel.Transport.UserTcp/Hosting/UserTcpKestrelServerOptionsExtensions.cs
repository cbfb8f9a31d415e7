using KcpKestrel.Transport.UserTcp;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Adds user-space TCP endpoints to Kestrel.</summary>
public static class UserTcpKestrelServerOptionsExtensions
{
    /// <summary>Serves <paramref name="endpoint"/> with the user-space TCP stack (needs <c>UseUserSpaceTcp</c> on the host).</summary>
    /// <param name="options">Kestrel's options.</param>
    /// <param name="endpoint">The device, address and port (its <see cref="UserTcpEndPoint.Configure"/> applies over the transport's settings).</param>
    /// <param name="configureListen">Kestrel's listen options (protocols, <c>UseHttps</c>, connection middleware).</param>
    public static void ListenUserSpaceTcp(this KestrelServerOptions options, UserTcpEndPoint endpoint, Action<ListenOptions>? configureListen = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(endpoint);
        options.Listen(endpoint, configureListen ?? (static _ => { }));
    }
}
