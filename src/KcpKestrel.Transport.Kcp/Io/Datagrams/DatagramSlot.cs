namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>The size of one datagram slot in a send or receive batch.</summary>
internal static class DatagramSlot
{
    /// <summary>
    /// A slot holds the largest datagram of an endpoint with room to spare, so a peer whose MTU is
    /// a little larger than ours is read whole and counted, not silently truncated.
    /// </summary>
    public static int SizeFor(int mtu) => Math.Max(2048, mtu + 64);
}
