namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>Takes the datagrams an <see cref="IDatagramChannel"/> receives, on its loop's thread.</summary>
internal interface IDatagramReceiver
{
    /// <summary>
    /// One received datagram; <paramref name="datagram"/> may be decrypted in place and is valid only
    /// during the call. <paramref name="sockaddr"/> is the sender in the Linux layout on every OS (see <see cref="Native.SockaddrLayout"/>).
    /// </summary>
    void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now);
}
