using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Shared;

/// <summary>
/// Binds a listener's SO_REUSEPORT group only on a port nobody else holds, so a second server on the
/// same port fails at start-up with Kestrel's <see cref="AddressInUseException"/> instead of silently
/// sharing the port (the kernel would then split datagrams or connections between the two).
/// </summary>
/// <remarks>
/// <para>
/// Before the group is bound, a probe socket WITHOUT SO_REUSEPORT binds the address (the same family
/// and dual mode as the group; TCP: bound, never listening). Linux refuses that bind with EADDRINUSE
/// when any socket holds an overlapping address, SO_REUSEPORT or not, so a taken port is reported
/// before anything is joined. The probe is then closed and the group bound to the probe's port; with
/// port 0 the probe picks the port (the kernel would otherwise let a port-0 SO_REUSEPORT UDP bind land
/// in another group of the same user), and a port taken in the moment between the probe and the group
/// is retried on a fresh one. Binds in this process are serialised, so two listeners of one process
/// cannot both pass the probe.
/// </para>
/// <para>
/// Residual: an SO_REUSEPORT group stays open to joiners. Another process of the same user that sets
/// SO_REUSEPORT itself can bind the port after (or in the moment between probe and group) and Linux
/// puts it in the group, which then shares traffic with it. That process must opt in deliberately and
/// already runs with this process's privileges; closing it fully would need a reuseport BPF program or
/// socket-diag enumeration after bind. A holding probe cannot stay open: it would stop the group itself.
/// </para>
/// Compiled into each project that uses it (src/Shared), so none of them references another.
/// </remarks>
internal static class ExclusiveBind
{
    /// <summary>Tries with a fresh port-0 probe when the probed port is taken before the group binds.</summary>
    internal const int PortZeroAttempts = 5;

    private static readonly Lock Gate = new();

    /// <summary>
    /// Probes <paramref name="requested"/> and binds the group on the port found free.
    /// </summary>
    /// <typeparam name="T">What <paramref name="bindGroup"/> returns (the bound sockets).</typeparam>
    /// <param name="requested">The address and port asked for (0: any free port).</param>
    /// <param name="socketType">Dgram for UDP, Stream for TCP.</param>
    /// <param name="protocol">Udp or Tcp.</param>
    /// <param name="dualMode">For IPv6: whether the group serves IPv4 peers too (the probe then covers IPv4 holders).</param>
    /// <param name="display">The endpoint as shown in the error (for example <c>kcp://127.0.0.1:4000</c>).</param>
    /// <param name="bindGroup">Binds the group's sockets to the port it is given; must dispose what it bound when it throws.</param>
    /// <returns>What <paramref name="bindGroup"/> returned.</returns>
    /// <exception cref="AddressInUseException">The address is held by another socket.</exception>
    internal static T Bind<T>(IPEndPoint requested, SocketType socketType, ProtocolType protocol, bool dualMode, Func<string> display, Func<int, T> bindGroup)
    {
        lock (Gate)
        {
            for (var attempt = 1; ; attempt++)
            {
                var port = Probe(requested, socketType, protocol, dualMode, display);
                try
                {
                    return bindGroup(port);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && requested.Port == 0 && attempt < PortZeroAttempts)
                {
                    // Someone took the free port between probe and group: probe for another.
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
                {
                    throw InUse(display(), e);
                }
            }
        }
    }

    /// <summary>The exception Kestrel's sockets transport throws for a taken port, with Kestrel's wording.</summary>
    internal static AddressInUseException InUse(string display, Exception inner) =>
        new($"Failed to bind to address {display}: address already in use.", inner);

    private static int Probe(IPEndPoint requested, SocketType socketType, ProtocolType protocol, bool dualMode, Func<string> display)
    {
        using var probe = new Socket(requested.AddressFamily, socketType, protocol);
        if (requested.AddressFamily == AddressFamily.InterNetworkV6)
        {
            probe.DualMode = dualMode;
        }

        try
        {
            probe.Bind(requested);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw InUse(display(), e);
        }

        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
