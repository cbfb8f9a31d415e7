namespace KcpKestrel.Transport.Kcp.Io;

/// <summary>Takes the datagrams a <see cref="UdpChannel"/> receives, on its loop's thread.</summary>
internal interface IDatagramReceiver
{
    /// <summary>One received datagram; <paramref name="datagram"/> may be decrypted in place and is valid only during the call.</summary>
    void OnDatagram(UdpChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now);
}
